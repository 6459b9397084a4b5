package io.finetune.trainer.train;

/** The training loss became NaN or infinite: the run stops instead of writing an artifact. */
public final class TrainingDivergedException extends RuntimeException {
    public TrainingDivergedException(String message) {
        super(message);
    }
}
