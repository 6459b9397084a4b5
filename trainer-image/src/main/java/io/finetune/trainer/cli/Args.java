package io.finetune.trainer.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Minimal "--name value" option parsing with a fixed set of known options per command. */
public record Args(List<String> positional, Map<String, String> options) {
    public static Args parse(String command, String[] argv, int from, Set<String> known) {
        return parse(command, argv, from, known, Set.of());
    }

    /** As above; {@code flags} are options without a value (present -> "true"). */
    public static Args parse(String command, String[] argv, int from, Set<String> known, Set<String> flags) {
        List<String> pos = new ArrayList<>();
        Map<String, String> opts = new LinkedHashMap<>();
        for (int i = from; i < argv.length; i++) {
            String a = argv[i];
            if (a.startsWith("--")) {
                String name = a.substring(2);
                if (flags.contains(name)) {
                    opts.put(name, "true");
                    continue;
                }
                if (!known.contains(name)) {
                    throw new UsageException(command + ": unknown option --" + name + " (known: " + known
                            + (flags.isEmpty() ? "" : ", flags: " + flags) + ")");
                }
                if (i + 1 >= argv.length) {
                    throw new UsageException(command + ": --" + name + " needs a value");
                }
                opts.put(name, argv[++i]);
            } else {
                pos.add(a);
            }
        }
        return new Args(pos, opts);
    }

    public boolean flag(String name) {
        return options.containsKey(name);
    }

    public String option(String name, String defaultValue) {
        return options.getOrDefault(name, defaultValue);
    }
}
