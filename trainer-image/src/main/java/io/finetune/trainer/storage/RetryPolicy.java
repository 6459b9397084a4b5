package io.finetune.trainer.storage;

import java.time.Duration;
import java.util.function.LongSupplier;
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

    /** Hard cap on attempts that made progress (they do not count against maxAttempts). */
    static final int MAX_PROGRESS_ATTEMPTS = 1000;

    <T> T call(String what, Attempt<T> attempt) {
        return call(what, attempt, () -> 0L);
    }

    /**
     * Like {@link #call(String, Attempt)}, but an attempt after which {@code progress} grew (bytes of a resumable download)
     * does not use up the bound and resets the backoff: a slow, flaky link still finishes a multi-GB file, while an
     * endpoint that never delivers a byte fails after maxAttempts.
     */
    <T> T call(String what, Attempt<T> attempt, LongSupplier progress) {
        Duration backoff = initialBackoff;
        int failures = 0;
        int progressed = 0;
        while (true) {
            long before = progress.getAsLong();
            try {
                return attempt.run();
            } catch (StorageException e) {
                if (!e.reason().retryable()) {
                    throw e;
                }
                if (progress.getAsLong() > before && progressed < MAX_PROGRESS_ATTEMPTS) {
                    progressed++;
                    failures = 0;
                    backoff = initialBackoff;
                    LOG.warn("{} interrupted after progress: {}; resuming in {} ms", what, e.getMessage(), backoff.toMillis());
                    sleep(backoff);
                    continue;
                }
                failures++;
                if (failures >= maxAttempts) {
                    throw e;
                }
                LOG.warn("{} failed (attempt {}/{}): {}; retrying in {} ms", what, failures, maxAttempts, e.getMessage(),
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
