package io.finetune.trainer.data;

import io.finetune.api.v1alpha1.DatasetSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Small JSONL files and char-level tokenizers for the data tests. */
final class DataFixtures {
    /** a=4, b=5, c=6, ...; with a chat template the role markers follow the alphabet. */
    static final String LETTERS = "abcdefghijklmnopqrstuvwxyz";
    static final String ALPHABET = LETTERS + " :\n<|>_";

    private DataFixtures() {}

    static TextTokenizer charTokenizer(Path dir, String alphabet, boolean chatTemplate) throws IOException {
        Path tokDir = dir.resolve("tokenizer");
        CharTokenizerWriter.write(tokDir, alphabet, chatTemplate);
        return TextTokenizer.load(tokDir);
    }

    static Path jsonl(Path dir, String name, String... lines) throws IOException {
        Path file = dir.resolve(name);
        Files.writeString(file, String.join("\n", lines) + (lines.length > 0 ? "\n" : ""), StandardCharsets.UTF_8);
        return file;
    }

    static Path jsonl(Path dir, String name, List<String> lines) throws IOException {
        return jsonl(dir, name, lines.toArray(String[]::new));
    }

    /** A spec with no eval split, so every record lands in train in file order. */
    static DatasetSpec spec() {
        DatasetSpec spec = new DatasetSpec();
        spec.source = "file:///data/train.jsonl";
        spec.evalFraction = 0.0;
        spec.maxSeqLength = 256;
        return spec;
    }

    /** Id of a letter for a tokenizer written with an alphabet starting with LETTERS. */
    static int id(char letter) {
        return 4 + LETTERS.indexOf(letter);
    }
}
