package io.finetune.trainer.data;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.filter.Filter;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * The {@code tojson} filter as transformers defines it for chat templates: Python's
 * {@code json.dumps(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)}, each overridable by name.
 *
 * <p>Why not Jinjava's own: it writes compact JSON ({@code {"a":1}}) where Python writes {@code {"a": 1}}, and the
 * rendered text is what the model is trained on; Jinja2's built-in would also HTML-escape, which transformers turns off.
 */
final class PyJson implements Filter {
    @Override
    public String getName() {
        return "tojson";
    }

    @Override
    public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
        return dumps(var, Options.of(new Object[0], Map.of()));
    }

    @Override
    public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
        return dumps(var, Options.of(args, kwargs));
    }

    /** json.dumps's keyword arguments (positional ones in transformers' order). */
    record Options(boolean ensureAscii, String indent, String itemSep, String keySep, boolean sortKeys) {
        static Options of(Object[] args, Map<String, Object> kwargs) {
            Object[] pos = Arrays.copyOf(args, 4);
            Object ascii = kwargs.getOrDefault("ensure_ascii", pos[0]);
            Object indent = kwargs.getOrDefault("indent", pos[1]);
            Object separators = kwargs.getOrDefault("separators", pos[2]);
            Object sort = kwargs.getOrDefault("sort_keys", pos[3]);
            String ind = indent == null ? null
                    : indent instanceof Number n ? " ".repeat(n.intValue()) : String.valueOf(indent);
            String item = ind == null ? ", " : ",";
            String key = ": ";
            if (separators instanceof List<?> seps && seps.size() == 2) {
                item = String.valueOf(seps.get(0));
                key = String.valueOf(seps.get(1));
            }
            return new Options(Boolean.TRUE.equals(ascii), ind, item, key, Boolean.TRUE.equals(sort));
        }
    }

    static String dumps(Object value, Options o) {
        StringBuilder out = new StringBuilder();
        write(value, o, 0, out);
        return out.toString();
    }

    private static void write(Object v, Options o, int level, StringBuilder out) {
        if (v == null) {
            out.append("null");
        } else if (v instanceof Boolean b) {
            out.append(b ? "true" : "false");
        } else if (v instanceof Double || v instanceof Float) {
            out.append(pyFloat(((Number) v).doubleValue()));
        } else if (v instanceof Number n) {
            out.append(n instanceof BigDecimal d ? d.toPlainString() : n.toString());
        } else if (v instanceof CharSequence || v instanceof Character) {
            string(v.toString(), o.ensureAscii(), out);
        } else if (v instanceof Map<?, ?> m) {
            List<Map.Entry<?, ?>> entries = new ArrayList<>(m.entrySet());
            if (o.sortKeys()) {
                entries.sort((a, b) -> String.valueOf(a.getKey()).compareTo(String.valueOf(b.getKey())));
            }
            container('{', '}', entries, o, level, out, (e, lvl) -> {
                string(String.valueOf(e.getKey()), o.ensureAscii(), out);
                out.append(o.keySep());
                write(e.getValue(), o, lvl, out);
            });
        } else if (v instanceof Collection<?> || v instanceof Object[]) {
            List<?> items = v instanceof Object[] a ? Arrays.asList(a) : new ArrayList<>((Collection<?>) v);
            container('[', ']', items, o, level, out, (item, lvl) -> write(item, o, lvl, out));
        } else {
            throw new IllegalArgumentException("tojson: a " + v.getClass().getSimpleName() + " is not JSON serializable");
        }
    }

    private interface Element<T> {
        void write(T item, int level);
    }

    private static <T> void container(char open, char close, List<T> items, Options o, int level, StringBuilder out,
            Element<T> element) {
        out.append(open);
        if (items.isEmpty()) {
            out.append(close);
            return;
        }
        for (int i = 0; i < items.size(); i++) {
            if (i > 0) {
                out.append(o.itemSep());
            }
            if (o.indent() != null) {
                out.append('\n').append(o.indent().repeat(level + 1));
            }
            element.write(items.get(i), level + 1);
        }
        if (o.indent() != null) {
            out.append('\n').append(o.indent().repeat(level));
        }
        out.append(close);
    }

    /** Python's json string escaping: quote, backslash, the C escapes, other controls as backslash-u. */
    private static void string(String s, boolean ensureAscii, StringBuilder out) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20 || (ensureAscii && c > 0x7e)) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    /** Python's float repr: plain between 1e-4 and 1e16, else d.ddde+XX. */
    static String pyFloat(double d) {
        if (Double.isNaN(d)) {
            return "NaN";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "Infinity" : "-Infinity";
        }
        if (d == 0) {
            return 1 / d < 0 ? "-0.0" : "0.0";
        }
        BigDecimal exact = new BigDecimal(Double.toString(d));
        double abs = Math.abs(d);
        if (abs >= 1e-4 && abs < 1e16) {
            String plain = exact.stripTrailingZeros().toPlainString();
            return plain.contains(".") ? plain : plain + ".0";
        }
        BigDecimal unscaled = exact.stripTrailingZeros();
        int exponent = unscaled.precision() - unscaled.scale() - 1;
        String digits = unscaled.unscaledValue().abs().toString();
        String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
        return (d < 0 ? "-" : "") + mantissa + "e" + (exponent < 0 ? "-" : "+") + String.format("%02d", Math.abs(exponent));
    }
}
