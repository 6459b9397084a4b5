package io.finetune.trainer.pod;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.finetune.api.TrainerResult;
import io.finetune.trainer.data.DatasetException;
import io.finetune.trainer.failure.Failure;
import io.finetune.trainer.safetensors.SafetensorsException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PodFailureReasonTest {
    private final java.util.function.Function<Throwable, TrainerResult.Reason> classify = Failure::reasonOf;

    @TempDir
    Path dir;

    @Test
    void theTrainersOwnExceptionsMapToTheirReasonsEvenWhenWrapped() {
        DatasetException bad = DatasetException.atLine(Path.of("/scratch/train.jsonl"), 3, "expected a JSON object");
        assertThat(classify.apply(bad)).isEqualTo(TrainerResult.Reason.InvalidDataset);
        assertThat(classify.apply(new RuntimeException("loading", bad))).isEqualTo(TrainerResult.Reason.InvalidDataset);
        assertThat(classify.apply(new UncheckedIOException(new SafetensorsException("model.safetensors: header too large"))))
                .isEqualTo(TrainerResult.Reason.InvalidModel);
        assertThat(classify.apply(new IllegalStateException("bug"))).isEqualTo(TrainerResult.Reason.TrainerError);
    }

    @Test
    void aMalformedLineEndsAsInvalidDatasetNamingFileAndLine() throws Exception {
        // What the operator will show for issue 6's "dataset with a malformed line" case.
        Path log = dir.resolve("termination-log");
        TerminationLog termination = new TerminationLog(log, SecretRedactor.fromEnv(Map.of()));
        DatasetException bad = DatasetException.atLine(Path.of("/scratch/data/train.jsonl"), 3, "expected a JSON object");
        termination.write(termination.failure(PodRunner.reasonOf(bad, classify), bad));

        var json = new ObjectMapper().readTree(Files.readString(log));
        assertThat(json.get("reason").asText()).isEqualTo("InvalidDataset");
        assertThat(json.get("message").asText()).isEqualTo("/scratch/data/train.jsonl:3: expected a JSON object");
    }
}
