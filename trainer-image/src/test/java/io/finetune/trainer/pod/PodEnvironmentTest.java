package io.finetune.trainer.pod;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.finetune.api.FineTuneJobManifest.InvalidManifestException;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.api.v1alpha1.MethodType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PodEnvironmentTest {
    @TempDir
    Path dir;

    /** The ConfigMap's job.yaml as the operator writes it: the user's manifest plus name/namespace/uid. */
    static String jobYaml(String name, String namespace) {
        return """
                apiVersion: finetune.io/v1alpha1
                kind: FineTuneJob
                metadata:
                  name: %s
                  namespace: %s
                  uid: 0b6c5d1e-9a55-4d5b-9a38-3a1e2f0c1d2e
                spec:
                  model:
                    source: pvc://models/tiny
                  dataset:
                    source: pvc://datasets/train.jsonl
                  method:
                    type: LoRA
                  output:
                    destination: pvc://artifacts/out
                """.formatted(name, namespace);
    }

    Map<String, String> env(Path config) {
        Map<String, String> env = new HashMap<>();
        env.put("FINETUNE_CONFIG", config.toString());
        env.put("FINETUNE_JOB_NAME", "llama-lora");
        env.put("FINETUNE_JOB_NAMESPACE", "team-a");
        env.put("FINETUNE_SCRATCH", dir.toString());
        return env;
    }

    @Test
    void readsTheOperatorsEnvironmentWithDefaults() throws IOException {
        Path config = Files.writeString(dir.resolve("job.yaml"), jobYaml("llama-lora", "team-a"));
        PodEnvironment env = PodEnvironment.fromEnv(env(config));

        assertThat(env.terminationLog()).isEqualTo(Path.of("/dev/termination-log"));
        assertThat(env.pvcRoot()).isEqualTo(Path.of("/mnt/pvc"));
        assertThat(env.metricsPort()).isEqualTo(9400);
        assertThat(env.progressInterval()).isEqualTo(Duration.ofSeconds(10));
        FineTuneJob job = env.loadJob();
        assertThat(job.getSpec().method.type).isEqualTo(MethodType.LoRA);
        assertThat(job.getMetadata().getUid()).isEqualTo("0b6c5d1e-9a55-4d5b-9a38-3a1e2f0c1d2e");
    }

    @Test
    void overridesAreHonoured() throws IOException {
        Map<String, String> vars = env(dir.resolve("job.yaml"));
        vars.put("FINETUNE_TERMINATION_LOG", "/tmp/term");
        vars.put("FINETUNE_METRICS_PORT", "9500");
        vars.put("FINETUNE_PROGRESS_INTERVAL_SECONDS", "0.5");
        PodEnvironment env = PodEnvironment.fromEnv(vars);
        assertThat(env.terminationLog()).isEqualTo(Path.of("/tmp/term"));
        assertThat(env.metricsPort()).isEqualTo(9500);
        assertThat(env.progressInterval()).isEqualTo(Duration.ofMillis(500));
    }

    @Test
    void eachMissingOrBadVariableIsNamed() {
        for (String key : new String[] {"FINETUNE_CONFIG", "FINETUNE_JOB_NAME", "FINETUNE_JOB_NAMESPACE", "FINETUNE_SCRATCH"}) {
            Map<String, String> vars = env(dir.resolve("job.yaml"));
            vars.put(key, " ");
            assertThatThrownBy(() -> PodEnvironment.fromEnv(vars)).hasMessageContaining("environment variable " + key
                    + " is not set");
        }
        Map<String, String> vars = env(dir.resolve("job.yaml"));
        vars.put("FINETUNE_METRICS_PORT", "metrics");
        assertThatThrownBy(() -> PodEnvironment.fromEnv(vars)).hasMessage("FINETUNE_METRICS_PORT=metrics: expected a port"
                + " number 0-65535");
    }

    @Test
    void aMissingConfigFileOrAnotherJobsConfigIsRefused() throws IOException {
        Path config = dir.resolve("job.yaml");
        assertThatThrownBy(() -> PodEnvironment.fromEnv(env(config)).loadJob())
                .hasMessageContaining("FINETUNE_CONFIG=" + config + ": file does not exist");

        Files.writeString(config, jobYaml("other-job", "team-a"));
        assertThatThrownBy(() -> PodEnvironment.fromEnv(env(config)).loadJob())
                .hasMessageContaining("metadata.name is 'other-job' but FINETUNE_JOB_NAME is 'llama-lora'");

        Files.writeString(config, jobYaml("llama-lora", "team-b"));
        assertThatThrownBy(() -> PodEnvironment.fromEnv(env(config)).loadJob())
                .hasMessageContaining("metadata.namespace is 'team-b' but FINETUNE_JOB_NAMESPACE is 'team-a'");
    }

    @Test
    void anInvalidJobNamesTheFileAndLine() throws IOException {
        Path config = Files.writeString(dir.resolve("job.yaml"), jobYaml("llama-lora", "team-a")
                .replace("    type: LoRA", "    type: LoRA\n    rnak: 8"));
        assertThatThrownBy(() -> PodEnvironment.fromEnv(env(config)).loadJob())
                .isInstanceOf(InvalidManifestException.class)
                .hasMessageContaining(config + ":").hasMessageContaining("unknown field 'rnak'");
    }
}
