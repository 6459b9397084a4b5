package io.finetune.trainer.layout;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** The one recursive delete of the trainer: only for directories the trainer itself created (scratch, quick start). */
public final class FileTrees {
    private FileTrees() {
    }

    /** Deletes {@code dir} and everything under it, children first; a missing {@code dir} is fine. */
    public static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
