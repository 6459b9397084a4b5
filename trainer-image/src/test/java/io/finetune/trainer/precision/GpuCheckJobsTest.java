package io.finetune.trainer.precision;

import static org.assertj.core.api.Assertions.assertThat;

import io.finetune.api.FineTuneJobManifest;
import io.finetune.api.FineTuneJobValidator;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.api.v1alpha1.Precision;
import io.finetune.testkit.RepoRoot;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * hack/gpu-check.sh runs on a device machine that sessions get only by chance: a malformed job there wastes the loan. Every
 * job its shared library writes (each case, fp32 and bf16) must be a valid FineTuneJob with the method and precision named.
 */
class GpuCheckJobsTest {
    @TempDir
    Path dir;

    @Test
    void everyCaseAndPrecisionIsAValidJob() throws Exception {
        Path root = RepoRoot.find();
        List<String> cases = List.of("lora", "rslora", "loraplus", "dora", "galore", "full");
        for (String precision : List.of("fp32", "bf16")) {
            for (String c : cases) {
                Path file = dir.resolve(c + "-" + precision + ".yaml");
                Process p = new ProcessBuilder("bash", "-c", "source hack/gpu-check-lib.sh && write_job \"$0\" \"$1\" \"$2\" \"$3\"",
                        c, precision, dir.resolve("out").toString(), file.toString())
                        .directory(root.toFile()).redirectErrorStream(true).start();
                assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
                assertThat(p.exitValue()).as(new String(p.getInputStream().readAllBytes())).isZero();
                FineTuneJob job = FineTuneJobManifest.read(file);
                assertThat(FineTuneJobValidator.validate(job.getSpec())).as(Files.readString(file)).isEmpty();
                assertThat(job.getSpec().training.precision).isEqualTo(Precision.valueOf(precision.toUpperCase()));
                assertThat(job.getSpec().method.type.name().toLowerCase()).as(c)
                        .isEqualTo(c.equals("rslora") ? "lora" : c);
                assertThat(job.getSpec().training.maxSteps).isEqualTo(20);
            }
        }
    }
}
