package io.finetune.charts;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A parsed Dockerfile: its stages and their instructions (continuation lines joined, comments dropped, a heredoc's body
 * ({@code RUN cmd <<'EOF'} ... {@code EOF}) kept in its instruction's args after a newline). Enough of the Dockerfile grammar
 * to check paths and commands without a Docker engine.
 */
record Dockerfile(Path file, List<Stage> stages) {
    record Instruction(String keyword, String args) {
    }

    record Stage(String name, String from, List<Instruction> instructions) {
        List<Instruction> all(String keyword) {
            return instructions.stream().filter(i -> i.keyword().equals(keyword)).toList();
        }

        Instruction last(String keyword) {
            List<Instruction> found = all(keyword);
            if (found.isEmpty()) {
                throw new AssertionError("stage " + name + " has no " + keyword);
            }
            return found.get(found.size() - 1);
        }
    }

    /** COPY's parts: --from stage (null for the build context), sources, destination. */
    record Copy(String from, List<String> sources, String destination) {
        static Copy of(Instruction copy) {
            String from = null;
            List<String> words = new ArrayList<>();
            for (String w : copy.args().trim().split("\\s+")) {
                if (w.startsWith("--from=")) {
                    from = w.substring("--from=".length());
                } else if (!w.startsWith("--")) {
                    words.add(w);
                }
            }
            return new Copy(from, words.subList(0, words.size() - 1), words.get(words.size() - 1));
        }
    }

    private static final Pattern HEREDOC = Pattern.compile("<<-?(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\\1");

    static Dockerfile parse(Path file) throws IOException {
        List<Stage> stages = new ArrayList<>();
        List<Instruction> preamble = new ArrayList<>();
        List<Instruction> current = preamble;
        StringBuilder logical = new StringBuilder();
        List<String> lines = Files.readAllLines(file);
        for (int n = 0; n < lines.size(); n++) {
            String line = lines.get(n);
            String trimmed = line.strip();
            if (trimmed.startsWith("#") && logical.length() == 0 || trimmed.isEmpty()) {
                continue;
            }
            if (trimmed.startsWith("#")) {
                continue; // comment inside a continued instruction
            }
            if (trimmed.endsWith("\\")) {
                logical.append(trimmed, 0, trimmed.length() - 1).append(' ');
                continue;
            }
            logical.append(trimmed);
            Matcher heredoc = HEREDOC.matcher(trimmed);
            if (logical.length() > 0 && !trimmed.startsWith("#") && heredoc.find()) {
                while (++n < lines.size() && !lines.get(n).strip().equals(heredoc.group(2))) {
                    logical.append('\n').append(lines.get(n));
                }
            }
            String text = logical.toString();
            logical.setLength(0);
            int space = text.indexOf(' ');
            String keyword = text.substring(0, space).toUpperCase(Locale.ROOT);
            String args = text.substring(space + 1).strip();
            if (keyword.equals("FROM")) {
                String[] parts = args.split("\\s+");
                String name = parts.length >= 3 && parts[1].equalsIgnoreCase("AS") ? parts[2] : String.valueOf(stages.size());
                current = new ArrayList<>();
                stages.add(new Stage(name, parts[0], current));
            } else {
                current.add(new Instruction(keyword, args));
            }
        }
        return new Dockerfile(file, stages);
    }

    Stage finalStage() {
        return stages.get(stages.size() - 1);
    }

    Stage stage(String name) {
        return stages.stream().filter(s -> s.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError(file + ": no stage " + name));
    }

    /** ENTRYPOINT in exec form (a JSON array), as the container runtime sees it. */
    List<String> entrypoint() throws IOException {
        String args = finalStage().last("ENTRYPOINT").args();
        if (!args.startsWith("[")) {
            throw new AssertionError(file + ": ENTRYPOINT must be in exec form (JSON array) so signals reach java");
        }
        return List.of(new ObjectMapper().readValue(args, String[].class));
    }
}
