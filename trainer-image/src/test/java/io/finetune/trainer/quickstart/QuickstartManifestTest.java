package io.finetune.trainer.quickstart;

import static org.assertj.core.api.Assertions.assertThat;

import io.finetune.api.FineTuneJobManifest;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.api.v1alpha1.MethodType;
import io.finetune.testkit.RepoRoot;
import io.finetune.trainer.storage.StorageUri;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The quick start runs the very examples/quickstart.yaml users read: the jar resource must be that file, byte for byte. */
class QuickstartManifestTest {
    static final String RESOURCE = "/quickstart/quickstart.yaml";

    @Test
    void embeddedManifestIsExamplesQuickstartYaml() throws Exception {
        String embedded;
        try (InputStream in = QuickstartManifestTest.class.getResourceAsStream(RESOURCE)) {
            assertThat(in).as("resource " + RESOURCE).isNotNull();
            embedded = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        Path file = RepoRoot.find().resolve("examples/quickstart.yaml");
        assertThat(embedded).isEqualTo(Files.readString(file));
        FineTuneJob job = FineTuneJobManifest.parse(embedded, file.toString());
        assertThat(job.getSpec().method.type).isEqualTo(MethodType.LoRA);
        assertThat(StorageUri.localFile(job.getSpec().model.source)).isAbsolute();
        assertThat(StorageUri.localFile(job.getSpec().dataset.source)).isAbsolute();
    }

    @Test
    void embeddedRealModelManifestIsExamplesQuickstartStories15mYaml() throws Exception {
        String embedded;
        try (InputStream in = QuickstartManifestTest.class.getResourceAsStream(RealQuickstart.RESOURCE)) {
            assertThat(in).as("resource " + RealQuickstart.RESOURCE).isNotNull();
            embedded = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        Path file = RepoRoot.find().resolve("examples/quickstart-stories15m.yaml");
        assertThat(embedded).isEqualTo(Files.readString(file));
        FineTuneJob job = FineTuneJobManifest.parse(embedded, file.toString());
        assertThat(job.getSpec().method.type).isEqualTo(MethodType.LoRA);
        assertThat(StorageUri.localFile(job.getSpec().dataset.evalSource)).isAbsolute();
    }
}
