package io.finetune.operator;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.finetune.api.FineTuneJobManifest;
import io.finetune.api.v1alpha1.FineTuneJob;

/** Valid FineTuneJobs for tests, parsed from YAML the way a user writes them. */
final class TestJobs {
    static final String NAMESPACE = "team-a";

    private TestJobs() {
    }

    static FineTuneJob lora(String name) {
        return parse(name, """
                model:
                  source: pvc://models/tiny-llama
                dataset:
                  source: pvc://data/train.jsonl
                method:
                  type: LoRA
                  lora: {rank: 8, alpha: 16, targetModules: [q_proj, v_proj]}
                output:
                  destination: s3://adapters/run-1
                  credentialsSecret: s3-creds
                resources:
                  gpus: 1
                """);
    }

    /**
     * A job from a spec body (YAML under spec:), without validation so invalid specs can be built too. Jobs that do not say
     * otherwise skip the preflight, so the training Job is the first thing created; PreflightFlowTest sets preflight: Auto.
     */
    static FineTuneJob parse(String name, String specYaml) {
        if (!specYaml.contains("preflight:")) {
            specYaml = specYaml.stripTrailing() + "\npreflight: Skip\n";
        }
        String yaml = "apiVersion: finetune.io/v1alpha1\nkind: FineTuneJob\nmetadata:\n  name: " + name + "\nspec:\n"
                + specYaml.indent(2);
        FineTuneJob job;
        try {
            job = FineTuneJobManifest.parse(yaml, "test");
        } catch (FineTuneJobManifest.InvalidManifestException e) {
            job = io.fabric8.kubernetes.client.utils.Serialization.unmarshal(yaml, FineTuneJob.class);
        }
        job.setMetadata(new ObjectMetaBuilder(job.getMetadata()).withNamespace(NAMESPACE).withUid("uid-" + name)
                .withGeneration(1L).build());
        return job;
    }
}
