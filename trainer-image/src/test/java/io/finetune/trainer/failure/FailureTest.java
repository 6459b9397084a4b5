package io.finetune.trainer.failure;

import static org.assertj.core.api.Assertions.assertThat;

import io.finetune.api.TrainerResult.Reason;
import io.finetune.trainer.data.DatasetException;
import io.finetune.trainer.method.TargetModulesNotFoundException;
import io.finetune.trainer.plan.PlanCheck;
import io.finetune.trainer.storage.StorageException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** One classification for the CLI and the pod: the exit class and the status reason come from the same call. */
class FailureTest {
    @Test
    void aTargetModulesMismatchIsBadInputWithItsOwnReasonInBothPlaces() {
        Failure f = Failure.of(new TargetModulesNotFoundException("spec.method.lora.targetModules [qkv] matches no module"));
        assertThat(f.exitClass()).isEqualTo(ExitClass.INPUT);
        assertThat(f.reason()).isEqualTo(Reason.TargetModulesNotFound);
        assertThat(f.message()).contains("qkv");
    }

    @Test
    void thePlansRefusalIsClassifiedByItsTypeNotByTheWordsOfItsMessage() {
        Failure plan = Failure.of(new PlanCheck.DoesNotFitException("Full needs 160 GiB; the device has 80 GiB"));
        assertThat(plan.exitClass()).isEqualTo(ExitClass.RESOURCE);
        assertThat(plan.reason()).isEqualTo(Reason.InsufficientGPUMemory);
        // the same words on a plain exception are not the plan's verdict
        Failure other = Failure.of(new IllegalStateException("Full would run out of memory, says a bug"));
        assertThat(other.reason()).isNotEqualTo(Reason.InsufficientGPUMemory);
    }

    @Test
    void wrappedTrainerFailuresAreFoundInTheCauseChainAndNameTheInput() {
        DatasetException bad = DatasetException.atLine(Path.of("/data/train.jsonl"), 7, "expected a JSON object");
        Failure f = Failure.of(new RuntimeException("loading the dataset", bad));
        assertThat(f.exitClass()).isEqualTo(ExitClass.INPUT);
        assertThat(f.reason()).isEqualTo(Reason.InvalidDataset);
        assertThat(f.message()).isEqualTo("/data/train.jsonl:7: expected a JSON object");
    }

    @Test
    void storageFailuresSplitByWhetherARetryCouldHelp() {
        Failure missing = Failure.of(new StorageException(StorageException.Reason.NOT_FOUND, "s3://b/k", "no such key"));
        assertThat(missing.exitClass()).isEqualTo(ExitClass.INPUT);
        assertThat(missing.reason()).isEqualTo(Reason.StorageError);
        Failure out = Failure.of(new OutOfMemoryError("Java heap space"));
        assertThat(out.exitClass()).isEqualTo(ExitClass.RESOURCE);
        assertThat(out.reason()).isEqualTo(Reason.OutOfMemory);
        Failure bug = Failure.of(new NullPointerException());
        assertThat(bug.exitClass()).isEqualTo(ExitClass.INTERNAL);
        assertThat(bug.reason()).isEqualTo(Reason.TrainerError);
    }
}
