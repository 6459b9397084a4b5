package io.finetune.trainer.train;

import java.nio.file.Path;

/**
 * The loop stopped on a {@link StopRequest} after a complete optimizer step and saved a checkpoint there: the run is not
 * finished, and a new run with the same output resumes at step {@code step + 1}.
 */
public final class TrainingStoppedException extends RuntimeException {
    private final int step;
    private final int totalSteps;
    private final transient Path checkpoint;

    public TrainingStoppedException(int step, int totalSteps, Path checkpoint, String why) {
        this("stopped by " + why + " after step " + step + "/" + totalSteps
                + (checkpoint != null ? "; checkpoint " + checkpoint.getFileName() + " saved, a new run resumes at step " + (step + 1)
                : "; no step was trained in this process, a new run starts at step " + (step + 1)), step, totalSteps, checkpoint);
    }

    private TrainingStoppedException(String message, int step, int totalSteps, Path checkpoint) {
        super(message);
        this.step = step;
        this.totalSteps = totalSteps;
        this.checkpoint = checkpoint;
    }

    /** A rank other than 0 stopped with the others after {@code step}: rank 0 saved the checkpoint. */
    static TrainingStoppedException onPeerRank(int step, int totalSteps, int rank, String why) {
        return new TrainingStoppedException("rank " + rank + " stopped by " + why + " after step " + step + "/" + totalSteps
                + " with every rank; rank 0 saved the checkpoint, a new run resumes at step " + (step + 1), step, totalSteps,
                null);
    }

    /** Optimizer steps done (and saved) when the loop stopped. */
    public int step() {
        return step;
    }

    public int totalSteps() {
        return totalSteps;
    }

    /** The checkpoint written at the stop, null when none was needed (no step done in this process). */
    public Path checkpoint() {
        return checkpoint;
    }
}
