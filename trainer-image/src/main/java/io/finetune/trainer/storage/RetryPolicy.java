package io.finetune.trainer.storage;

import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bounded retry with exponential backoff for {@link StorageException.Reason#retryable() retryable} failures (5xx, dropped
 * connections, unreachable endpoints). Anything else fails at once: retrying a 403 only delays the user's error.
 */
public record RetryPolicy(int maxAttempts, Duration initialBackoff, Duration maxBackoff) {
    private static final Logger LOG = LoggerFactory.getLogger(RetryPolicy.class);

    /** Production default: 5 attempts, 0.5 s doubling to at most 20 s (about 35 s of waiting in total). */
    public static final RetryPolicy DEFAULT = new RetryPolicy(5, Duration.ofMillis(500), Duration.ofSeconds(20));

    public RetryPolicy {
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("maxAttempts must be >= 1, got " + maxAttempts);
        }
    }

    /** One attempt of a storage operation. */
    @FunctionalInterface
    interface Attempt<T> {
        T run() throws StorageException;
    }

    <T> T call(String what, Attempt<T> attempt) {
        Duration backoff = initialBackoff;
        for (int i = 1; ; i++) {
            try {
                return attempt.run();
            } catch (StorageException e) {
                if (!e.reason().retryable() || i >= maxAttempts) {
                    throw e;
                }
                LOG.warn("{} failed (attempt {}/{}): {}; retrying in {} ms", what, i, maxAttempts, e.getMessage(),
                        backoff.toMillis());
                sleep(backoff);
                backoff = backoff.multipliedBy(2).compareTo(maxBackoff) > 0 ? maxBackoff : backoff.multipliedBy(2);
            }
        }
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting to retry", e);
        }
    }
}
