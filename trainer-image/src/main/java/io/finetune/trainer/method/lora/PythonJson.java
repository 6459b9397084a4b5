package io.finetune.trainer.method.lora;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import java.util.Collection;
import java.util.Map;
import java.util.TreeMap;

/**
 * Serialises maps/lists/scalars byte-for-byte like Python's {@code json.dumps(obj, indent=2, sort_keys=True)}, the way PEFT
 * writes adapter_config.json, so our files diff cleanly against PEFT's.
 */
public final class PythonJson {
    private PythonJson() {
    }

    public static String dumps(Object value) {
        StringBuilder sb = new StringBuilder();
        write(sb, value, 0);
        return sb.toString();
    }

    private static void write(StringBuilder sb, Object v, int depth) {
        if (v == null) {
            sb.append("null");
        } else if (v instanceof String s) {
            sb.append('"').append(JsonStringEncoder.getInstance().quoteAsString(s)).append('"');
        } else if (v instanceof Boolean b) {
            sb.append(b ? "true" : "false");
        } else if (v instanceof Double || v instanceof Float) {
            double d = ((Number) v).doubleValue();
            sb.append(d == Math.rint(d) && Math.abs(d) < 1e16 ? String.format("%.1f", d) : Double.toString(d));
        } else if (v instanceof Number n) {
            sb.append(n.longValue());
        } else if (v instanceof Map<?, ?> m) {
            if (m.isEmpty()) {
                sb.append("{}");
                return;
            }
            sb.append("{\n");
            var sorted = new TreeMap<String, Object>();
            m.forEach((k, val) -> sorted.put(String.valueOf(k), val));
            int i = 0;
            for (var e : sorted.entrySet()) {
                indent(sb, depth + 1);
                write(sb, e.getKey(), depth + 1);
                sb.append(": ");
                write(sb, e.getValue(), depth + 1);
                sb.append(++i < sorted.size() ? ",\n" : "\n");
            }
            indent(sb, depth);
            sb.append('}');
        } else if (v instanceof Collection<?> c) {
            if (c.isEmpty()) {
                sb.append("[]");
                return;
            }
            sb.append("[\n");
            int i = 0;
            for (Object o : c) {
                indent(sb, depth + 1);
                write(sb, o, depth + 1);
                sb.append(++i < c.size() ? ",\n" : "\n");
            }
            indent(sb, depth);
            sb.append(']');
        } else {
            throw new IllegalArgumentException("cannot serialise " + v.getClass());
        }
    }

    private static void indent(StringBuilder sb, int depth) {
        sb.append("  ".repeat(depth));
    }
}
