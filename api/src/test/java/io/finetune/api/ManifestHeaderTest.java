package io.finetune.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.finetune.api.FineTuneJobManifest.InvalidManifestException;
import org.junit.jupiter.api.Test;

/** A manifest is exactly one FineTuneJob document: other kinds, a missing kind and several documents are named errors. */
class ManifestHeaderTest {
    private static final String BODY = """
            metadata:
              name: t
            spec:
              model: {source: file:///models/tiny}
              dataset: {source: file:///data/train.jsonl}
              method: {type: LoRA}
              output: {destination: file:///out/t}
            """;
    private static final String HEADER = "apiVersion: finetune.io/v1alpha1\nkind: FineTuneJob\n";

    @Test
    void oneFineTuneJobDocumentIsAccepted() {
        assertThat(FineTuneJobManifest.parse("---\n" + HEADER + BODY, "job.yaml").getMetadata().getName()).isEqualTo("t");
    }

    @Test
    void twoDocumentsAreRefusedNotHalfTrained() {
        String two = HEADER + BODY + "---\n" + HEADER + BODY.replace("name: t", "name: u");
        assertThatThrownBy(() -> FineTuneJobManifest.parse(two, "jobs.yaml"))
                .isInstanceOf(InvalidManifestException.class)
                .hasMessage("jobs.yaml: holds 2 YAML documents (separated by '---'); a manifest must hold exactly one"
                        + " FineTuneJob: put each job in its own file");
    }

    @Test
    void aPodIsNamedAsAPod() {
        String pod = """
                apiVersion: v1
                kind: Pod
                metadata: {name: p}
                spec:
                  containers: [{name: c, image: busybox}]
                """;
        assertThatThrownBy(() -> FineTuneJobManifest.parse(pod, "pod.yaml"))
                .hasMessageStartingWith("pod.yaml: this is a Pod, not a FineTuneJob (kind: Pod)");
    }

    @Test
    void aMissingKindIsNamed() {
        assertThatThrownBy(() -> FineTuneJobManifest.parse("apiVersion: finetune.io/v1alpha1\n" + BODY, "job.yaml"))
                .hasMessageStartingWith("job.yaml: kind is missing");
    }

    @Test
    void aWrongApiVersionIsNamed() {
        assertThatThrownBy(() -> FineTuneJobManifest.parse("apiVersion: finetune.io/v2\nkind: FineTuneJob\n" + BODY, "j.yaml"))
                .hasMessage("j.yaml: apiVersion is 'finetune.io/v2'; a FineTuneJob has apiVersion finetune.io/v1alpha1");
    }

    @Test
    void aListOrScalarIsNotAJob() {
        assertThatThrownBy(() -> FineTuneJobManifest.parse("- a\n- b\n", "l.yaml"))
                .hasMessageStartingWith("l.yaml: expected a FineTuneJob").hasMessageEndingWith("got a list");
        assertThatThrownBy(() -> FineTuneJobManifest.parse("   \n", "e.yaml")).hasMessage("e.yaml: empty manifest");
    }
}
