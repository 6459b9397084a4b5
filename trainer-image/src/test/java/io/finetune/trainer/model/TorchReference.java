package io.finetune.trainer.model;

import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.finetune.trainer.data.Batch;
import io.finetune.trainer.safetensors.FloatTensor;
import io.finetune.trainer.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Runs the independent PyTorch reference (tools/reference/families.py, Debian's torch under /usr/bin/python3) from a test.
 * Where torch is missing the tests skip with the reason, except under hack/test.sh, which installs python3-torch and sets
 * {@value #REQUIRE_ENV}=true so that a missing torch fails them instead.
 */
public final class TorchReference {
    public static final String REQUIRE_ENV = "FINETUNE_REQUIRE_TORCH";
    static final String PYTHON = "/usr/bin/python3";
    static final Path SCRIPT = Path.of("../tools/reference/families.py").toAbsolutePath().normalize();

    private TorchReference() {
    }

    /** Skips (or fails under {@value #REQUIRE_ENV}=true) unless /usr/bin/python3 imports torch. */
    public static void require() throws Exception {
        String why = null;
        try {
            Process p = new ProcessBuilder(PYTHON, "-c", "import torch").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
                why = PYTHON + " cannot import torch: " + out.strip();
            }
        } catch (IOException e) {
            why = PYTHON + " cannot be run: " + e.getMessage();
        }
        if (why == null) {
            return;
        }
        why += " (apt-get install python3-torch libopenblas0-pthread)";
        if ("true".equalsIgnoreCase(System.getenv(REQUIRE_ENV))) {
            fail(why + "; " + REQUIRE_ENV + "=true requires it");
        }
        Assumptions.abort(why + "; set " + REQUIRE_ENV + "=true to fail instead");
    }

    /** The reference's mean next-token loss of {@code batches} under the model in {@code modelDir} with the PEFT adapter. */
    public static double evalLoss(Path modelDir, Path adapterDir, List<Batch> batches, Path work) throws Exception {
        double sum = 0;
        long tokens = 0;
        for (int i = 0; i < batches.size(); i++) {
            Batch b = batches.get(i);
            Path file = work.resolve("reference-batch-" + i + ".safetensors");
            write(b, file);
            Process p = new ProcessBuilder(PYTHON, SCRIPT.toString(), "eval", modelDir.toString(), adapterDir.toString(),
                    file.toString()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(300, TimeUnit.SECONDS) || p.exitValue() != 0) {
                fail("the reference failed: " + out);
            }
            String last = out.strip().lines().reduce((a, c) -> c).orElse("");
            JsonNode r = new ObjectMapper().readTree(last);
            sum += r.path("loss").asDouble() * b.lossTokens();
            tokens += b.lossTokens();
        }
        return sum / tokens;
    }

    private static void write(Batch b, Path file) throws IOException {
        long[] shape = {b.batchSize(), b.seqLen()};
        Map<String, FloatTensor> t = new LinkedHashMap<>();
        t.put("input_ids", new FloatTensor(shape, floats(b.inputIds())));
        t.put("labels", new FloatTensor(shape, floats(b.labels())));
        t.put("position_ids", new FloatTensor(shape, floats(b.positionIds())));
        float[] seg = new float[b.segmentIds().length];
        for (int i = 0; i < seg.length; i++) {
            seg[i] = b.segmentIds()[i];
        }
        t.put("segment_ids", new FloatTensor(shape, seg));
        SafetensorsWriter.write(file, t);
    }

    private static float[] floats(long[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = v[i];
        }
        return f;
    }
}
