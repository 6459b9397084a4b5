package io.finetune.trainer.hostile;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Output destinations that overlap an input: refused before anything is loaded, exit 3, the inputs byte-for-byte unchanged
 * and nothing created.
 */
class OutputLocationHostileTest {
    @TempDir
    Path dir;
    Path model;
    Path data;
    Map<String, String> before;

    @BeforeEach
    void inputs() throws Exception {
        model = Hostile.model(dir.resolve("model"));
        data = Hostile.data(dir.resolve("data/train.jsonl"));
        before = Hostile.snapshot(dir);
    }

    private void refused(String destination, String... extraArgs) throws Exception {
        Path manifest = Hostile.write(dir.resolve("../job-" + System.nanoTime() + ".yaml").normalize(),
                Hostile.job("bad-dest", 4, "file://" + model, "file://" + data, destination));
        String[] args = new String[2 + extraArgs.length];
        args[0] = "run";
        args[1] = manifest.toString();
        System.arraycopy(extraArgs, 0, args, 2, extraArgs.length);
        Hostile.run(args).refused(3, "training would write among the files it reads");
        assertThat(Hostile.snapshot(dir)).as("no input changed, nothing written").isEqualTo(before);
        Files.delete(manifest);
    }

    @Test
    void destinationIsTheModelDirectory() throws Exception {
        refused("file://" + model);
    }

    @Test
    void destinationInsideTheModelDirectory() throws Exception {
        refused("file://" + model + "/adapters/run1");
    }

    @Test
    void destinationWithDotDotAndSlashesResolvingIntoTheModel() throws Exception {
        refused("file://" + dir + "/data/../model//sub/./x");
    }

    @Test
    void destinationContainingTheDataset() throws Exception {
        refused("file://" + dir + "/data");
    }

    @Test
    void destinationIsAnAncestorOfEverything() throws Exception {
        refused("file://" + dir);
    }

    @Test
    void destinationReachedThroughASymlinkIntoTheModel() throws Exception {
        Path link = Files.createSymbolicLink(dir.resolveSibling(dir.getFileName() + "-link"), model);
        try {
            refused("file://" + link + "/out");
        } finally {
            Files.delete(link);
        }
    }

    @Test
    void workDirectoryGivenWithOutputIsTheModel() throws Exception {
        refused("file://" + dir.resolve("elsewhere"), "--output", model.toString());
    }

    @Test
    void separateTokenizerDirectoryIsProtectedToo() throws Exception {
        Path tok = dir.resolve("tok");
        Files.createDirectories(tok);
        Files.copy(model.resolve("tokenizer.json"), tok.resolve("tokenizer.json"));
        before = Hostile.snapshot(dir);
        Path manifest = Hostile.write(dir.resolveSibling(dir.getFileName() + "-tok.yaml"),
                Hostile.job("bad-dest", 4, "file://" + model, "file://" + data, "file://" + tok + "/out")
                        .replace("    source: file://" + model, "    source: file://" + model + "\n    tokenizer: file://" + tok));
        try {
            Hostile.run("run", manifest.toString()).refused(3, "spec.model.tokenizer");
            assertThat(Hostile.snapshot(dir)).isEqualTo(before);
        } finally {
            Files.delete(manifest);
        }
    }
}
