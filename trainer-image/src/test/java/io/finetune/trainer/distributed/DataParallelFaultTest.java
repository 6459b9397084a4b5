package io.finetune.trainer.distributed;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faults of a data-parallel run, with the real trainer in two JVMs: a rank killed with SIGKILL makes the other fail with
 * one error line naming it, well within the collective timeout, and the rerun resumes from the last checkpoint and
 * continues the curve; SIGTERM to one rank stops both after the same step (exit 75, rank 0 checkpoints) and the rerun
 * continues the curve.
 */
class DataParallelFaultTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int STEPS = 120;

    @TempDir
    static Path dir;
    static Path library;
    /** One uninterrupted 2 x 4 run: the curve every interrupted run must continue. */
    static JsonNode straight;

    @BeforeAll
    static void inputs() throws Exception {
        library = GlooTestLibrary.require();
        DataParallelJobs.writeInputs(dir);
        straight = run("straight", 2);
    }

    static Path job(String name) throws Exception {
        return DataParallelJobs.job(dir, "faults-" + name, "LoRA", 4, STEPS, 10, dir.resolve(name));
    }

    /** Runs (or resumes) {@code name} to the end at world size {@code world}; returns rank 0's summary. */
    static JsonNode run(String name, int world) throws Exception {
        try (Ranks ranks = Ranks.trainer(library, job(name), dir.resolve(name), world,
                dir.resolve(name + "-logs-" + System.nanoTime()))) {
            Integer[] codes = ranks.exitCodes(300);
            for (int r = 0; r < world; r++) {
                assertThat(codes[r]).as("rank %d exit code; logs:%s", r, ranks.allOutput()).isEqualTo(0);
            }
        }
        return JSON.readTree(dir.resolve(name).resolve("training_summary.json").toFile());
    }

    static void assertContinuesTheCurve(JsonNode resumed) {
        JsonNode a = straight.get("lossCurve");
        JsonNode b = resumed.get("lossCurve");
        assertThat(b.size()).isEqualTo(STEPS);
        for (int i = 0; i < STEPS; i++) {
            double e = a.get(i).asDouble();
            assertThat(b.get(i).asDouble()).as("loss at step %d", i + 1)
                    .isCloseTo(e, org.assertj.core.data.Offset.offset(DataParallelRunTest.RELATIVE * Math.abs(e)));
        }
    }

    @Test
    void aKilledRankFailsTheOtherNamingItAndTheRerunResumesTheCurve() throws Exception {
        long failedAfterMillis;
        String rank0;
        try (Ranks ranks = Ranks.trainer(library, job("killed"), dir.resolve("killed"), 2,
                dir.resolve("killed-logs"))) {
            assertThat(ranks.awaitOutput(0, 0, "step 15/" + STEPS, 120)).as(ranks.output(0)).isTrue();
            long killed = System.nanoTime();
            ranks.process(1).destroyForcibly();   // SIGKILL: no handler, no checkpoint, connections closed by the kernel
            Integer[] codes = ranks.exitCodes(60);
            failedAfterMillis = (System.nanoTime() - killed) / 1_000_000;
            rank0 = ranks.output(0);
            assertThat(codes[0]).as(rank0).isNotNull().isNotEqualTo(0).isNotEqualTo(75);
        }
        assertThat(failedAfterMillis).as("rank 0 fails within the collective timeout (20 s)").isLessThan(20_000);
        assertThat(rank0.lines().filter(l -> l.startsWith("error: "))).singleElement().asString()
                .contains("rank 0 of 2").contains("rank 1");
        assertThat(dir.resolve("killed/training_summary.json")).doesNotExist();   // nothing published
        assertThat(dir.resolve("killed/checkpoints/step-10")).isDirectory();
        assertContinuesTheCurve(run("killed", 2));
    }

    @Test
    void sigtermToOneRankStopsBothAfterTheSameStepAndTheResumeContinuesTheCurve() throws Exception {
        String out0;
        String out1;
        try (Ranks ranks = Ranks.trainer(library, job("stopped"), dir.resolve("stopped"), 2,
                dir.resolve("stopped-logs"))) {
            assertThat(ranks.awaitOutput(0, 0, "step 15/" + STEPS, 120)).as(ranks.output(0)).isTrue();
            ranks.process(1).destroy();   // SIGTERM to rank 1 alone, as when one pod of the gang is evicted
            Integer[] codes = ranks.exitCodes(60);
            out0 = ranks.output(0);
            out1 = ranks.output(1);
            assertThat(codes[0]).as(out0).isEqualTo(75);
            assertThat(codes[1]).as(out1).isEqualTo(75);
        }
        int step0 = stoppedAt(out0);
        int step1 = stoppedAt(out1);
        assertThat(step1).as("both ranks stop after the same step").isEqualTo(step0);
        assertThat(step0).isLessThan(STEPS);
        assertThat(dir.resolve("stopped/checkpoints/step-" + step0)).isDirectory();   // rank 0 checkpointed the step
        assertContinuesTheCurve(run("stopped", 2));
    }

    private static int stoppedAt(String output) {
        Matcher m = Pattern.compile("stopped by .* after step (\\d+)/").matcher(output);
        assertThat(m.find()).as(output).isTrue();
        return Integer.parseInt(m.group(1));
    }
}
