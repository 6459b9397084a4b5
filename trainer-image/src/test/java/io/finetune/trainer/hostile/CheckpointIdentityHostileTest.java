package io.finetune.trainer.hostile;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An output directory holding another run's checkpoint: never resumed (LoRA on LoRA), refused naming whose it is, left
 * byte-for-byte unchanged; the same job resumes; --force-new moves the old directory aside and deletes nothing.
 */
class CheckpointIdentityHostileTest {
    @TempDir
    Path dir;
    Path model;
    Path data;
    Path out;

    @BeforeEach
    void firstRun() throws Exception {
        model = Hostile.model(dir.resolve("model"));
        data = Hostile.data(dir.resolve("data/train.jsonl"));
        out = dir.resolve("out");
        Hostile.Outcome first = Hostile.run("run", manifest("job-a", 4).toString());
        assertThat(first.code()).as(first.err()).isZero();
        assertThat(out.resolve("checkpoints/step-2/run_identity.json")).isRegularFile();
    }

    private Path manifest(String name, int rank) throws Exception {
        return Hostile.write(dir.resolve(name + "-r" + rank + ".yaml"),
                Hostile.job(name, rank, "file://" + model, "file://" + data, "file://" + out));
    }

    @Test
    void anotherSpecUnderTheSameNameIsRefusedNamingTheOwner() throws Exception {
        Map<String, String> before = Hostile.snapshot(out);
        Hostile.Outcome o = Hostile.run("run", manifest("job-a", 2).toString())
                .refused(3, "holds the checkpoint/output of FineTuneJob job-a");
        assertThat(o.err()).contains("differs in: method").contains("--force-new");
        assertThat(Hostile.snapshot(out)).isEqualTo(before);
    }

    @Test
    void anotherJobWithTheSameSpecIsRefused() throws Exception {
        Map<String, String> before = Hostile.snapshot(out);
        Hostile.run("run", manifest("job-b", 4).toString()).refused(3, "FineTuneJob job-a");
        assertThat(Hostile.snapshot(out)).isEqualTo(before);
    }

    @Test
    void theSameJobResumesFromItsOwnCheckpoint() throws Exception {
        Hostile.Outcome again = Hostile.run("run", manifest("job-a", 4).toString());
        assertThat(again.code()).as(again.err()).isZero();
        assertThat(again.out()).contains("resuming from").contains("(step 2/4)");
    }

    @Test
    void forceNewMovesTheOldRunAsideAndDeletesNothing() throws Exception {
        Map<String, String> before = Hostile.snapshot(out);
        Hostile.Outcome o = Hostile.run("run", manifest("job-b", 2).toString(), "--force-new");
        assertThat(o.code()).as(o.err()).isZero();
        assertThat(o.out()).contains("--force-new: moved " + out + " aside to ");
        List<Path> aside;
        try (Stream<Path> s = Files.list(dir)) {
            aside = s.filter(p -> p.getFileName().toString().startsWith("out.superseded-")).toList();
        }
        assertThat(aside).hasSize(1);
        assertThat(Hostile.snapshot(aside.get(0))).isEqualTo(before);
        assertThat(o.out()).doesNotContain("resuming from");
        assertThat(Files.readString(out.resolve("run_identity.json"))).contains("\"jobName\" : \"job-b\"");
    }

    @Test
    void aDirectoryWithFilesNoRunWroteIsNotOverwritten() throws Exception {
        Path foreign = dir.resolve("foreign");
        Files.createDirectories(foreign);
        Files.writeString(foreign.resolve("adapter_model.safetensors"), "precious");
        Path m = Hostile.write(dir.resolve("f.yaml"),
                Hostile.job("job-f", 4, "file://" + model, "file://" + data, "file://" + foreign));
        Hostile.run("run", m.toString()).refused(3, "already holds files no training run of this trainer wrote"
                + " (adapter_model.safetensors)");
        assertThat(Files.readString(foreign.resolve("adapter_model.safetensors"))).isEqualTo("precious");
        assertThat(Hostile.snapshot(foreign)).hasSize(1);
    }

    @Test
    void aCorruptIdentityFileIsAClearError() throws Exception {
        Files.writeString(out.resolve("run_identity.json"), "{not json");
        Hostile.run("run", manifest("job-a", 4).toString()).refused(3, "run_identity.json: not a valid run identity file");
    }
}
