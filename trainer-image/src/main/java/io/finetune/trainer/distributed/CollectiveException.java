package io.finetune.trainer.distributed;

/**
 * A collective or the rendezvous failed: a peer died (its connections closed), hung past the timeout, or never joined.
 * The message names this rank, the world size and, where the engine tells it, the peer, e.g. {@code rank 0 of 2:
 * all-reduce failed: connection to rank 1 closed (did rank 1 die?)}, so that one {@code error:} line says which process to
 * look at.
 */
public class CollectiveException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public CollectiveException(String message) {
        super(message);
    }

    public CollectiveException(String message, Throwable cause) {
        super(message, cause);
    }

    /** {@code rank R of N: what}: the prefix every message of this package starts with. */
    static CollectiveException of(int rank, int worldSize, String what) {
        return new CollectiveException(prefix(rank, worldSize) + what);
    }

    static String prefix(int rank, int worldSize) {
        return "rank " + rank + " of " + worldSize + ": ";
    }

    /** A timeout in words: {@code 20 s}, {@code 2.5 s}. */
    static String seconds(long millis) {
        return millis % 1000 == 0 ? millis / 1000 + " s" : String.format(java.util.Locale.ROOT, "%.1f s", millis / 1000.0);
    }
}
