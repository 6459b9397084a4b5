package io.finetune.trainer.quickstart;

import io.finetune.trainer.quickstart.QuickstartTask.Sample;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The real-model quick start's task, built from WordNet 3.0 as Debian's {@code wordnet-base} ships it (WordNet licence,
 * permissive): {@code The word "cat" means} -> {@code  feline mammal usually having thick soft fur ...}. One sample per
 * common noun (a sense tagged in the SemCor corpus, i.e. tagsense_cnt > 0), its most frequent sense's definition (the
 * gloss up to the first ';', without the examples). Held out by word: the split depends only on the word.
 */
public final class WordnetTask {
    public static final Path DEFAULT_DIR = Path.of("/usr/share/wordnet");
    private static final Pattern WORD = Pattern.compile("[a-z]{3,12}");
    static final int MAX_DEFINITION = 64;

    /** Training and held-out samples; every word is in exactly one of them. */
    public record Split(List<Sample> train, List<Sample> eval) {
    }

    private WordnetTask() {
    }

    public static boolean available(Path dir) {
        return Files.isRegularFile(dir.resolve("index.noun")) && Files.isRegularFile(dir.resolve("data.noun"));
    }

    public static String prompt(String word) {
        return "The word \"" + word + "\" means";
    }

    /** Every 10th word (by a fixed hash of the word) is held out. */
    public static Split build(Path dir) throws IOException {
        Map<String, String> glosses = new HashMap<>();
        for (String line : Files.readAllLines(dir.resolve("data.noun"), StandardCharsets.UTF_8)) {
            int bar = line.indexOf(" | ");
            if (!line.startsWith("  ") && bar > 0) {
                glosses.put(line.substring(0, line.indexOf(' ')), line.substring(bar + 3).strip());
            }
        }
        List<Sample> train = new ArrayList<>();
        List<Sample> eval = new ArrayList<>();
        for (String line : Files.readAllLines(dir.resolve("index.noun"), StandardCharsets.UTF_8)) {
            if (line.startsWith("  ")) {
                continue; // licence header
            }
            String[] f = line.strip().split(" +");
            if (f.length < 6 || !WORD.matcher(f[0]).matches()) {
                continue;
            }
            int pointers = Integer.parseInt(f[3]);
            int tagged = Integer.parseInt(f[5 + pointers]);
            String gloss = glosses.get(f[6 + pointers]);
            if (tagged == 0 || gloss == null) {
                continue;
            }
            String definition = gloss.split(";", 2)[0].strip();
            if (definition.length() < 8 || definition.length() > MAX_DEFINITION || definition.contains("\"")) {
                continue;
            }
            Sample s = new Sample(prompt(f[0]), " " + definition);
            (Math.floorMod(f[0].hashCode() * 0x9E3779B1, 10) == 0 ? eval : train).add(s);
        }
        return new Split(train, eval);
    }
}
