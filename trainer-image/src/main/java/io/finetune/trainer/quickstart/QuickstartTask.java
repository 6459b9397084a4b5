package io.finetune.trainer.quickstart;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The quick start's task: reverse a short lowercase word ("abcd=" -> "dcba"). A random-init model cannot do it; LoRA learns it
 * in a few hundred steps, and held-out words show whether it generalises rather than memorises.
 */
public final class QuickstartTask {
    public static final int MIN_LEN = 3;
    public static final int MAX_LEN = 6;
    private static final ObjectMapper JSON = new ObjectMapper();

    public record Sample(String prompt, String completion) {
    }

    private QuickstartTask() {
    }

    public static String answer(String word) {
        return new StringBuilder(word).reverse().toString();
    }

    /** n distinct words from the seed; disjoint between train and eval because eval draws from a different seed and is filtered. */
    public static List<Sample> samples(int n, long seed, java.util.Set<String> exclude) {
        Random r = new Random(seed);
        List<Sample> out = new ArrayList<>();
        java.util.Set<String> seen = new java.util.HashSet<>(exclude);
        while (out.size() < n) {
            int len = MIN_LEN + r.nextInt(MAX_LEN - MIN_LEN + 1);
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < len; i++) {
                sb.append((char) ('a' + r.nextInt(26)));
            }
            String w = sb.toString();
            if (seen.add(w)) {
                out.add(new Sample(w + "=", answer(w)));
            }
        }
        return out;
    }

    public static void writeJsonl(Path file, List<Sample> samples) throws IOException {
        Files.createDirectories(file.getParent());
        try (Writer w = Files.newBufferedWriter(file)) {
            for (Sample s : samples) {
                w.write(JSON.writeValueAsString(new java.util.TreeMap<>(java.util.Map.of("prompt", s.prompt(),
                        "completion", s.completion()))));
                w.write('\n');
            }
        }
    }
}
