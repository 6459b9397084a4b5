package io.finetune.trainer.distributed;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Data parallelism end to end, with the real trainer in separate JVMs on Gloo: N ranks x batch b follow the trajectory of
 * one process x batch N*b (loss per step within 1e-5 relative: the same sums, added in another order), for every method.
 */
class DataParallelRunTest {
    /** Float sums over shards and ranks are added in another order than one process adds them. */
    static final double RELATIVE = 1e-5;
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static Path library;

    @BeforeAll
    static void inputs() throws Exception {
        library = GlooTestLibrary.require();
        DataParallelJobs.writeInputs(dir);
    }

    /** Trains to the end at world size {@code world}; returns rank 0's summary. */
    static JsonNode train(String name, String method, int batch, int world) throws Exception {
        Path out = dir.resolve(name);
        try (Ranks ranks = Ranks.trainer(library, DataParallelJobs.job(dir, name, method, batch, 6, 0, out), out, world,
                dir.resolve(name + "-logs"))) {
            Integer[] codes = ranks.exitCodes(240);
            for (int r = 0; r < world; r++) {
                assertThat(codes[r]).as("rank %d of %s exit code; logs:%s", r, name, ranks.allOutput()).isEqualTo(0);
            }
        }
        return JSON.readTree(out.resolve("training_summary.json").toFile());
    }

    static List<Double> curve(JsonNode summary) {
        List<Double> out = new ArrayList<>();
        summary.get("lossCurve").forEach(n -> out.add(n.asDouble()));
        return out;
    }

    static void assertSameTrajectory(JsonNode expected, JsonNode actual) {
        List<Double> a = curve(expected);
        List<Double> b = curve(actual);
        assertThat(b).hasSameSizeAs(a);
        for (int i = 0; i < a.size(); i++) {
            assertThat(b.get(i)).as("loss at step %d", i + 1).isCloseTo(a.get(i),
                    org.assertj.core.data.Offset.offset(RELATIVE * Math.abs(a.get(i))));
        }
        double e = expected.get("evalLossAfter").asDouble();
        assertThat(actual.get("evalLossAfter").asDouble()).isCloseTo(e, org.assertj.core.data.Offset.offset(RELATIVE * e));
        // and training did something: the curve is not flat
        assertThat(a.get(a.size() - 1)).isLessThan(a.get(0));
    }

    @ParameterizedTest
    @ValueSource(strings = {"LoRA", "DoRA", "LoRAPlus", "GaLore", "Full", "QLoRA"})
    void twoRanksOfFourFollowOneProcessOfEight(String method) throws Exception {
        JsonNode one = train("one-" + method.toLowerCase(), method, 8, 1);
        JsonNode two = train("two-" + method.toLowerCase(), method, 4, 2);
        if (method.equals("QLoRA")) {   // the base really is 4-bit on every rank
            for (int r = 0; r < 2; r++) {
                assertThat(Files.readString(dir.resolve("two-qlora-logs").resolve("rank" + r + ".log")))
                        .as("rank %d", r).containsIgnoringCase("quantization: nf4");
            }
        }
        assertSameTrajectory(one, two);
        assertThat(two.get("trainableParameters").asLong()).isEqualTo(one.get("trainableParameters").asLong());
    }

    @Test
    void runWithNprocTwoLaunchesTheRanksAndFollowsOneProcess() throws Exception {
        JsonNode one = train("one-cli", "LoRA", 8, 1);
        Path out = dir.resolve("nproc-cli");
        Path job = DataParallelJobs.job(dir, "nproc-cli", "LoRA", 4, 6, 0, out);
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(javaBin, "-Xmx768m", "-cp", System.getProperty("java.class.path"),
                "io.finetune.trainer.Main", "run", job.toString(), "--output", out.toString(), "--nproc", "2");
        pb.environment().put(GlooLibrary.LIBRARY_ENV, library.toString());
        pb.environment().put("OMP_NUM_THREADS", "1");
        pb.environment().remove(LaunchEnvironment.RANK);
        pb.environment().remove(LaunchEnvironment.WORLD_SIZE);
        Path log = dir.resolve("nproc-cli.log");
        Process p = pb.redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            assertThat(p.waitFor(240, java.util.concurrent.TimeUnit.SECONDS)).as("launcher finished").isTrue();
        } finally {
            p.destroyForcibly();
        }
        String output = Files.readString(log);
        assertThat(p.exitValue()).as(output).isZero();
        assertThat(output).contains("[rank 0] ").contains("[rank 1] ");
        assertSameTrajectory(one, JSON.readTree(out.resolve("training_summary.json").toFile()));
    }

    @Test
    void threeRanksOfFourFollowOneProcessOfTwelve() throws Exception {
        assertSameTrajectory(train("one-twelve", "LoRA", 12, 1), train("three-four", "LoRA", 4, 3));
    }
}
