package io.finetune.trainer.failure;

/** Bad command line; the message says what was expected. */
public final class UsageException extends RuntimeException {
    public UsageException(String message) {
        super(message);
    }
}
