package io.finetune.trainer.train;

import java.io.IOException;
import java.nio.file.Path;

/**
 * What the training loop tells the world outside it: pod mode turns steps into progress reports and publishes each
 * checkpoint to the output location, so a replacement pod can resume. Local runs use {@link #NONE}.
 */
public interface TrainingHooks {
    TrainingHooks NONE = new TrainingHooks() {
    };

    /**
     * Called once before the first step of this process.
     *
     * @param startStep     optimizer steps already done (resumed from a checkpoint), else 0
     * @param totalSteps    optimizer steps of the whole run
     * @param stepsPerEpoch optimizer steps in one pass over the training set
     */
    default void started(int startStep, int totalSteps, double stepsPerEpoch) {
    }

    /** After each optimizer step: {@code done} steps so far, the step's loss and learning rate, real tokens trained on. */
    default void stepDone(int done, double loss, double learningRate, long tokens) {
    }

    /** After a checkpoint directory {@code <output>/checkpoints/step-N} is complete on local disk. */
    default void checkpointSaved(Path checkpointDir) throws IOException {
    }
}
