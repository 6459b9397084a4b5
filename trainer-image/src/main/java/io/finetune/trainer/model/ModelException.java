package io.finetune.trainer.model;

/** A model directory this trainer cannot load (unsupported architecture, bad config.json, missing tensor); names the file. */
public final class ModelException extends RuntimeException {
    public ModelException(String message) {
        super(message);
    }

    public ModelException(String message, Throwable cause) {
        super(message, cause);
    }
}
