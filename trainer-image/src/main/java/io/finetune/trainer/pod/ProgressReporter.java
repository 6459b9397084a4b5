package io.finetune.trainer.pod;

import io.finetune.api.v1alpha1.Progress;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reports training progress to the API server without ever slowing or stopping training.
 *
 * <p>{@link #report} only stores the newest value and wakes a daemon thread; that thread sends at most one patch per
 * {@code minInterval} (the first one at once), so a burst of steps costs one request and the last value wins. A failed
 * request is retried with exponential backoff, always with the newest value; the failure is logged once per outage and
 * the recovery once. {@link #close} sends the last value (waiting at most {@code closeTimeout}).
 */
public final class ProgressReporter implements ProgressSink {
    private static final Logger LOG = LoggerFactory.getLogger(ProgressReporter.class);

    /**
     * @param minInterval    least time between two patches (default 10 s)
     * @param initialBackoff wait after the first failed patch; doubles per failure
     * @param maxBackoff     cap of the backoff
     * @param closeTimeout   how long {@link #close} waits for the final patch
     */
    public record Settings(Duration minInterval, Duration initialBackoff, Duration maxBackoff, Duration closeTimeout) {
        public Settings {
            Objects.requireNonNull(minInterval, "minInterval");
            if (initialBackoff.isNegative() || initialBackoff.isZero() || maxBackoff.compareTo(initialBackoff) < 0) {
                throw new IllegalArgumentException("need 0 < initialBackoff <= maxBackoff");
            }
        }

        public static Settings of(Duration minInterval) {
            return new Settings(minInterval, Duration.ofSeconds(1), Duration.ofSeconds(60), Duration.ofSeconds(15));
        }
    }

    /** Counters for logs and tests. */
    public record Stats(long reported, long patched, long failed) {
    }

    private final StatusPatcher patcher;
    private final Settings settings;
    private final Consumer<String> log;
    private final Thread worker;
    private final Object lock = new Object();

    // guarded by lock
    private Progress pending;
    private boolean closing;
    private long reported;
    private long patched;
    private long failed;

    public ProgressReporter(StatusPatcher patcher, Settings settings) {
        this(patcher, settings, LOG::warn);
    }

    /** {@code log} receives the few lines this reporter writes (failure, recovery, undelivered final value). */
    public ProgressReporter(StatusPatcher patcher, Settings settings, Consumer<String> log) {
        this.patcher = patcher;
        this.settings = settings;
        this.log = log;
        this.worker = new Thread(this::run, "progress-reporter");
        this.worker.setDaemon(true);
        this.worker.start();
    }

    @Override
    public void report(Progress progress) {
        if (progress == null) {
            return;
        }
        synchronized (lock) {
            if (closing) {
                return;
            }
            pending = progress;
            reported++;
            lock.notifyAll();
        }
    }

    public Stats stats() {
        synchronized (lock) {
            return new Stats(reported, patched, failed);
        }
    }

    @Override
    public void close() {
        synchronized (lock) {
            if (closing) {
                return;
            }
            closing = true;
            lock.notifyAll();
        }
        try {
            worker.join(settings.closeTimeout().toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (worker.isAlive()) {
            worker.interrupt();
            log.accept("final progress for " + patcher.target() + " not delivered within "
                    + TrainingProgress.formatDuration(settings.closeTimeout()) + "; giving up (training result unaffected)");
        }
        patcher.close();
    }

    private void run() {
        long nextAllowedNanos = System.nanoTime();
        long backoffNanos = settings.initialBackoff().toNanos();
        boolean backingOff = false;
        int failuresInOutage = 0;
        while (true) {
            Progress toSend;
            synchronized (lock) {
                try {
                    while (pending == null && !closing) {
                        lock.wait();
                    }
                    if (pending == null) {
                        return;   // closing and everything delivered
                    }
                    // Closing skips the rate limit (the final value must go out) but not the backoff after a failure.
                    long waitNanos;
                    while ((waitNanos = nextAllowedNanos - System.nanoTime()) > 0 && (backingOff || !closing)) {
                        lock.wait(Math.max(1, waitNanos / 1_000_000));
                    }
                } catch (InterruptedException e) {
                    return;
                }
                toSend = pending;
                pending = null;
            }
            try {
                patcher.patchProgress(toSend);
                synchronized (lock) {
                    patched++;
                }
                if (failuresInOutage > 0) {
                    log.accept("progress reporting to " + patcher.target() + " recovered after " + failuresInOutage
                            + " failed attempt(s)");
                }
                failuresInOutage = 0;
                backingOff = false;
                backoffNanos = settings.initialBackoff().toNanos();
                nextAllowedNanos = System.nanoTime() + settings.minInterval().toNanos();
            } catch (Exception e) {
                if (Thread.currentThread().isInterrupted()) {
                    return;
                }
                synchronized (lock) {
                    failed++;
                    if (pending == null) {
                        pending = toSend;   // keep it unless a newer value arrived meanwhile
                    }
                }
                if (failuresInOutage++ == 0) {
                    log.accept("cannot report progress to " + patcher.target() + ": " + oneLine(e)
                            + "; training continues, retrying with backoff (further failures are not logged)");
                }
                backingOff = true;
                nextAllowedNanos = System.nanoTime() + Math.max(backoffNanos, settings.minInterval().toNanos());
                backoffNanos = Math.min(backoffNanos * 2, settings.maxBackoff().toNanos());
            }
        }
    }

    private static String oneLine(Exception e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        m = m.replaceAll("\\s+", " ").strip();
        return m.length() > 300 ? m.substring(0, 300) + "..." : m;
    }
}
