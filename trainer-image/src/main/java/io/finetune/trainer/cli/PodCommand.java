package io.finetune.trainer.cli;

import io.finetune.trainer.pod.PodRunner;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/**
 * {@code pod}: what the operator's training pod runs. The job, storage credentials and reporting target come from the
 * environment the operator sets; the pod path owns its own failures (one termination message whatever happens).
 */
@Command(name = "pod", description = {"What the operator's training pod runs.",
    "Trains the job from $FINETUNE_CONFIG (set by the operator), reports progress on the FineTuneJob and on",
    "/metrics, and writes the result to the termination log."})
final class PodCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        return PodRunner.command();
    }
}
