package io.finetune.trainer.data;

import java.beans.FeatureDescriptor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELException;
import jinjava.javax.el.ELResolver;

/**
 * The Python methods chat templates call on strings and dicts, as Jinja2 (which calls the real Python objects) evaluates
 * them: {@code str.startswith/endswith} (a string or a tuple of them), {@code split/rsplit} (with or without a separator,
 * maxsplit), {@code strip/lstrip/rstrip} (whitespace or the given characters), {@code upper/lower}, {@code dict.get}
 * with a default, {@code s[i]} on a string, and the {@code __slice__} call {@link ExpressionRewrite} turns {@code x[a:b:c]} into (lists, strings).
 *
 * <p>Why a resolver: Jinjava hands a method call on an object to its EL resolver, which only knows the Java methods
 * ({@code String.startsWith}, a regex {@code split}); this resolver answers the Python names first and leaves everything
 * else to Jinjava's own. Whitespace is Python's ({@code str.isspace}: also U+00A0, U+0085 and the other Unicode spaces
 * that Java's {@code Character.isWhitespace} leaves out).
 */
final class PyMethods extends ELResolver {
    @Override
    public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
        if (base == null || !(method instanceof String name)) {
            return null;
        }
        Object[] args = params == null ? new Object[0] : params;
        Object result;
        if (ExpressionRewrite.METHOD.equals(name)) {
            result = slice(base, args);
        } else if (base instanceof String s) {
            result = stringMethod(s, name, args);
        } else if (base instanceof Map<?, ?> m && name.equals("get") && args.length == 2) {
            result = m.containsKey(args[0]) ? m.get(args[0]) : args[1];
        } else {
            return null;
        }
        if (result == NOT_MINE) {
            return null;
        }
        context.setPropertyResolved(true);
        return result;
    }

    private static final Object NOT_MINE = new Object();

    private static Object stringMethod(String s, String name, Object[] args) {
        return switch (name) {
            case "startswith" -> anyAffix(args, a -> s.startsWith(a));
            case "endswith" -> anyAffix(args, a -> s.endsWith(a));
            case "strip" -> strip(s, chars(args), true, true);
            case "lstrip" -> strip(s, chars(args), true, false);
            case "rstrip" -> strip(s, chars(args), false, true);
            case "split" -> split(s, args, false);
            case "rsplit" -> split(s, args, true);
            case "upper" -> s.toUpperCase(java.util.Locale.ROOT);
            case "lower" -> s.toLowerCase(java.util.Locale.ROOT);
            default -> NOT_MINE;
        };
    }

    private static boolean anyAffix(Object[] args, java.util.function.Predicate<String> test) {
        if (args.length != 1) {
            throw new ELException("startswith/endswith take one argument, got " + args.length);
        }
        Object a = args[0];
        if (a instanceof Collection<?> options) { // a tuple: ('<tool_response>', '<tool_call>')
            return options.stream().anyMatch(o -> test.test(String.valueOf(o)));
        }
        return test.test(String.valueOf(a));
    }

    /** The characters to strip, or null for Python's whitespace. */
    private static String chars(Object[] args) {
        return args.length == 0 || args[0] == null ? null : String.valueOf(args[0]);
    }

    static boolean isSpace(int c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == 0x85;
    }

    static String strip(String s, String chars, boolean left, boolean right) {
        int from = 0;
        int to = s.length();
        while (left && from < to && stripped(s.charAt(from), chars)) {
            from++;
        }
        while (right && to > from && stripped(s.charAt(to - 1), chars)) {
            to--;
        }
        return s.substring(from, to);
    }

    private static boolean stripped(char c, String chars) {
        return chars == null ? isSpace(c) : chars.indexOf(c) >= 0;
    }

    /** Python's {@code str.split(sep=None, maxsplit=-1)} and {@code rsplit}. */
    static List<String> split(String s, Object[] args, boolean fromRight) {
        String sep = args.length > 0 && args[0] != null ? String.valueOf(args[0]) : null;
        int max = args.length > 1 ? ((Number) args[1]).intValue() : -1;
        if (sep != null && sep.isEmpty()) {
            throw new ELException("split: empty separator");
        }
        List<String> out = new ArrayList<>();
        if (sep == null) {
            String rest = strip(s, null, !fromRight || max < 0, fromRight || max < 0);
            while (!rest.isEmpty()) {
                if (max >= 0 && out.size() == max) {
                    out.add(fromRight ? strip(rest, null, false, true) : strip(rest, null, true, false));
                    break;
                }
                int cut = fromRight ? lastSpace(rest) : firstSpace(rest);
                if (cut < 0) {
                    out.add(rest);
                    break;
                }
                out.add(fromRight ? rest.substring(cut + 1) : rest.substring(0, cut));
                rest = fromRight ? strip(rest.substring(0, cut), null, false, true)
                        : strip(rest.substring(cut + 1), null, true, false);
            }
        } else {
            String rest = s;
            while (max < 0 || out.size() < max) {
                int cut = fromRight ? rest.lastIndexOf(sep) : rest.indexOf(sep);
                if (cut < 0) {
                    break;
                }
                out.add(fromRight ? rest.substring(cut + sep.length()) : rest.substring(0, cut));
                rest = fromRight ? rest.substring(0, cut) : rest.substring(cut + sep.length());
            }
            out.add(rest);
        }
        if (fromRight) {
            java.util.Collections.reverse(out);
        }
        return out;
    }

    private static int firstSpace(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (isSpace(s.charAt(i))) {
                return i;
            }
        }
        return -1;
    }

    private static int lastSpace(String s) {
        for (int i = s.length() - 1; i >= 0; i--) {
            if (isSpace(s.charAt(i))) {
                return i;
            }
        }
        return -1;
    }

    /** {@code base[start:stop:step]} with Python's index rules (None, negatives, clamping, negative steps). */
    static Object slice(Object base, Object[] args) {
        List<Object> items = null;
        if (base instanceof String s) {
            items = new ArrayList<>(s.codePoints().mapToObj(Character::toString).toList()); // Python indexes code points
        } else if (base instanceof Object[] array) {
            items = Arrays.asList(array);
        } else if (base instanceof Iterable<?> it) {
            items = new ArrayList<>();
            for (Iterator<?> i = it.iterator(); i.hasNext(); ) {
                items.add(i.next());
            }
        } else {
            throw new ELException("cannot slice a " + base.getClass().getSimpleName() + " (not a list or string)");
        }
        int len = items.size();
        int step = args.length > 2 && args[2] != null ? index(args[2]) : 1;
        if (step == 0) {
            throw new ELException("slice step cannot be zero");
        }
        int start = bound(args.length > 0 ? args[0] : null, len, step, true);
        int stop = bound(args.length > 1 ? args[1] : null, len, step, false);
        List<Object> out = new ArrayList<>();
        for (int i = start; step > 0 ? i < stop : i > stop; i += step) {
            out.add(items.get(i));
        }
        if (base instanceof String) {
            StringBuilder sb = new StringBuilder(out.size());
            out.forEach(sb::append);
            return sb.toString();
        }
        return out;
    }

    /** CPython's PySlice_AdjustIndices for one end. */
    private static int bound(Object value, int len, int step, boolean isStart) {
        if (value == null) {
            return step > 0 ? (isStart ? 0 : len) : (isStart ? len - 1 : -1);
        }
        int v = index(value);
        if (v < 0) {
            v += len;
            if (v < 0) {
                v = step < 0 ? -1 : 0;
            }
        } else if (v >= len) {
            v = step < 0 ? len - 1 : len;
        }
        return v;
    }

    private static int index(Object value) {
        if (value instanceof Number n) {
            return n.intValue();
        }
        throw new ELException("slice indices must be integers or none, got '" + value + "'");
    }

    /** {@code s[i]} on a string, negative i counting from the end (Jinjava answers null); the rest is Jinjava's. */
    @Override
    public Object getValue(ELContext context, Object base, Object property) {
        if (!(base instanceof String s) || property == null) {
            return null;
        }
        int index;
        try {
            index = property instanceof Number n ? n.intValue() : Integer.parseInt(property.toString());
        } catch (NumberFormatException e) {
            return null;
        }
        int[] points = s.codePoints().toArray();
        int at = index < 0 ? index + points.length : index;
        if (at < 0 || at >= points.length) {
            throw new ELException("string index " + index + " out of range (length " + points.length + ")");
        }
        context.setPropertyResolved(true);
        return Character.toString(points[at]);
    }

    @Override
    public Class<?> getType(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public void setValue(ELContext context, Object base, Object property, Object value) {}

    @Override
    public boolean isReadOnly(ELContext context, Object base, Object property) {
        return true;
    }

    @Override
    public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
        return null;
    }

    @Override
    public Class<?> getCommonPropertyType(ELContext context, Object base) {
        return null;
    }
}
