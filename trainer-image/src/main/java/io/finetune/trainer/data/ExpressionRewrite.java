package io.finetune.trainer.data;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * Rewrites the two pieces of Python expression syntax that Jinjava's parser reads differently from Jinja2, before the
 * template is parsed:
 * <ul>
 *   <li>slices, {@code x[a:b:c]}, become a method call {@code x.__slice__(a, b, c)} that {@link PyMethods} evaluates
 *       with Python's semantics (negative steps included);</li>
 *   <li>a keyword argument's value is parenthesized, {@code f(n=xs|length - 1)} becomes {@code f(n=(xs|length - 1))}:
 *       Jinjava parses {@code =} as an additive operator, so the {@code - 1} would apply to the named parameter
 *       (Qwen3's {@code namespace(..., last_query_index=messages|length - 1)} fails with "Cannot coerce ... NamedParameter").</li>
 * </ul>
 *
 * <p>Why a source rewrite: Jinjava's expression parser knows {@code [a:b]} but not a step ({@code messages[::-1]}, which
 * Qwen3's template uses to walk the history backwards, fails to parse), and the parser cannot be extended without
 * copying its private code. A slice is a postfix on its base exactly like a {@code .name(...)} call, so the rewrite
 * only has to find the brackets, never the base expression: inside {@code {{ }}} and {@code {% %}} (string literals,
 * comments and {@code {% raw %}} blocks are left alone) a {@code [...]} holding a top-level {@code :} is a slice
 * (a list literal cannot hold one; a dict's colons are inside braces). Every slice is rewritten, with and without a
 * step, so one implementation gives Python's semantics. Newlines are never added or removed: error line numbers stay
 * the template's own.
 */
final class ExpressionRewrite {
    /** The method name the rewrite calls; a Python identifier no template defines. */
    static final String METHOD = "__slice__";

    private ExpressionRewrite() {}

    static String rewrite(String template) {
        StringBuilder out = new StringBuilder(template.length() + 16);
        int i = 0;
        int n = template.length();
        while (i < n) {
            if (template.startsWith("{#", i)) {
                int end = template.indexOf("#}", i + 2);
                end = end < 0 ? n : end + 2;
                out.append(template, i, end);
                i = end;
            } else if (template.startsWith("{%", i) && isRawTag(template, i)) {
                int end = endOfRaw(template, i);
                out.append(template, i, end);
                i = end;
            } else if (template.startsWith("{{", i) || template.startsWith("{%", i)) {
                out.append(template, i, i + 2);
                i = expression(template, i + 2, template.charAt(i + 1) == '{' ? "}}" : "%}", out);
            } else {
                out.append(template.charAt(i));
                i++;
            }
        }
        return out.toString();
    }

    /** Copies one expression region (rewriting its slices) up to and including its closing delimiter. */
    private static int expression(String s, int i, String close, StringBuilder out) {
        Deque<Frame> open = new ArrayDeque<>();
        int n = s.length();
        while (i < n) {
            char c = s.charAt(i);
            if (open.isEmpty() && s.startsWith(close, i)) {
                out.append(close);
                return i + close.length();
            }
            if (c == '\'' || c == '"') {
                int end = endOfString(s, i);
                out.append(s, i, end);
                i = end;
                continue;
            }
            if (c == '=' && isKeywordEquals(s, i) && !open.isEmpty() && open.peek().bracket == '(') {
                out.append("=(");
                open.peek().keywordValueOpen = true;
                i++;
                continue;
            }
            if (c == ',' && !open.isEmpty() && open.peek().keywordValueOpen) {
                out.append(')');
                open.peek().keywordValueOpen = false;
            }
            switch (c) {
                case '[', '(', '{' -> open.push(new Frame(c, out.length()));
                case ':' -> {
                    if (!open.isEmpty() && open.peek().bracket == '[') {
                        open.peek().colons.add(out.length());
                    }
                }
                case ']', ')', '}' -> {
                    Frame f = open.isEmpty() ? null : open.pop();
                    if (f != null && f.keywordValueOpen) {
                        out.append(')');
                    }
                    if (f != null && c == ']' && f.bracket == '[' && !f.colons.isEmpty() && f.colons.size() <= 2) {
                        toCall(out, f);
                        i++;
                        continue;
                    }
                }
                default -> { }
            }
            out.append(c);
            i++;
        }
        return n; // unterminated: Jinjava reports it when it parses the rewritten text
    }

    /** Replaces {@code [a:b:c} (already in {@code out}) by {@code .__slice__(a, b, c)}. */
    private static void toCall(StringBuilder out, Frame f) {
        List<String> parts = new ArrayList<>();
        int from = f.start + 1;
        for (int colon : f.colons) {
            parts.add(out.substring(from, colon));
            from = colon + 1;
        }
        parts.add(out.substring(from));
        StringBuilder call = new StringBuilder("." + METHOD + "(");
        for (int k = 0; k < parts.size(); k++) {
            String p = parts.get(k).strip();
            call.append(k > 0 ? ", " : "").append(p.isEmpty() ? "none" : p);
        }
        call.append(')');
        out.setLength(f.start);
        out.append(call);
    }

    /** An {@code =} that is neither part of {@code ==, !=, <=, >=} nor followed by {@code =}. */
    private static boolean isKeywordEquals(String s, int i) {
        char before = i > 0 ? s.charAt(i - 1) : ' ';
        char after = i + 1 < s.length() ? s.charAt(i + 1) : ' ';
        return after != '=' && "=!<>".indexOf(before) < 0;
    }

    private static int endOfString(String s, int i) {
        char quote = s.charAt(i);
        int j = i + 1;
        while (j < s.length() && s.charAt(j) != quote) {
            j += s.charAt(j) == '\\' ? 2 : 1;
        }
        return Math.min(j + 1, s.length());
    }

    private static boolean isRawTag(String s, int i) {
        return tagName(s, i).equals("raw");
    }

    /** The first word of the tag at {@code i} ({@code "{%-? name ..."}). */
    private static String tagName(String s, int i) {
        int j = i + 2;
        if (j < s.length() && (s.charAt(j) == '-' || s.charAt(j) == '+')) {
            j++;
        }
        while (j < s.length() && Character.isWhitespace(s.charAt(j))) {
            j++;
        }
        int k = j;
        while (k < s.length() && Character.isLetter(s.charAt(k))) {
            k++;
        }
        return s.substring(j, k);
    }

    /** The end of the {@code {% endraw %}} tag closing the raw block at {@code i} (or the end of the text). */
    private static int endOfRaw(String s, int i) {
        int j = s.indexOf("%}", i);
        while (j >= 0) {
            int tag = s.indexOf("{%", j);
            if (tag < 0) {
                return s.length();
            }
            int close = s.indexOf("%}", tag);
            if (close < 0) {
                return s.length();
            }
            if (tagName(s, tag).equals("endraw")) {
                return close + 2;
            }
            j = close;
        }
        return s.length();
    }

    /** An open bracket: where it starts in the output, where its top-level colons are, whether a keyword value is open. */
    private static final class Frame {
        final char bracket;
        final int start;
        final List<Integer> colons = new ArrayList<>();
        /** Inside {@code (...)}: a keyword argument's value is open and gets its closing parenthesis at , or ). */
        boolean keywordValueOpen;

        Frame(char bracket, int start) {
            this.bracket = bracket;
            this.start = start;
        }
    }
}
