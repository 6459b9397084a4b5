package io.finetune.trainer.distributed;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The end of a data-parallel run, agreed by every rank: no rank exits 0 before rank 0 has published the artifact.
 *
 * <p>Why: the ranks of a gang run in separate pods of one Job whose completions count successes. A rank that exited 0
 * while rank 0 then failed (its publish, its final write) would leave the Job wanting fewer pods than the gang has, so the
 * whole gang could never be retried. So the other ranks wait here for rank 0's outcome and fail with it.
 *
 * <p>How: rank 0 publishes on a worker thread while its main thread keeps the group alive with one tiny all-reduce (MAX of
 * a state) per {@code heartbeat}: every round is bounded by the collective timeout, however long the upload takes, and a
 * rank that dies or hangs meanwhile is noticed as in any other collective. The other ranks contribute 0 and leave when the
 * state says published (return) or failed (a {@link CollectiveException} naming rank 0, so the launcher and the pod report
 * rank 0's own failure as the cause). At world size 1 the publish simply runs.
 */
public final class RunEnd {
    /** How often rank 0 tells the others it is still publishing. */
    public static final Duration HEARTBEAT = Duration.ofSeconds(1);
    static final long PUBLISHING = 1;
    static final long PUBLISHED = 2;
    static final long FAILED = 3;

    private RunEnd() {
    }

    /** Rank 0: runs {@code publish} and tells every rank how it ended; returns its result or throws its failure. */
    public static <T> T rankZero(ProcessGroup group, Duration heartbeat, Callable<T> publish) throws IOException {
        if (group.worldSize() == 1) {
            return call(publish);
        }
        FutureTask<T> task = new FutureTask<>(publish);
        Thread worker = new Thread(task, "rank0-publish");
        worker.setDaemon(true);
        worker.start();
        while (true) {
            long state;
            try {
                task.get(heartbeat.toMillis(), TimeUnit.MILLISECONDS);
                state = PUBLISHED;
            } catch (TimeoutException e) {
                state = PUBLISHING;
            } catch (ExecutionException e) {
                state = FAILED;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while publishing", e);
            }
            group.allReduceMax(new long[] {state});
            if (state != PUBLISHING) {
                return result(task);
            }
        }
    }

    /** Every rank but 0: returns once rank 0 has published; throws when it failed (or, as any collective, when it died). */
    public static void peer(ProcessGroup group) {
        while (true) {
            long[] state = {0};
            group.allReduceMax(state);
            if (state[0] == PUBLISHED) {
                return;
            }
            if (state[0] == FAILED) {
                throw CollectiveException.of(group.rank(), group.worldSize(), "rank 0 failed after training (see its error);"
                        + " this rank fails with it so that the whole gang is retried from the last checkpoint");
            }
        }
    }

    private static <T> T result(FutureTask<T> task) throws IOException {
        try {
            return task.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while publishing", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) {
                throw io;
            }
            if (cause instanceof RuntimeException re) {
                throw re;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw new IOException(cause);
        }
    }

    private static <T> T call(Callable<T> publish) throws IOException {
        try {
            return publish.call();
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IOException(e);
        }
    }
}
