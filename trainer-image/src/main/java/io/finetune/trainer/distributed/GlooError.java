package io.finetune.trainer.distributed;

/**
 * What the native binding throws when Gloo fails (constructed from C++, see finetune_gloo.cc): how it failed, which peer
 * Gloo's message names (-1 when it names none), and Gloo's own message. {@link GlooProcessGroup} turns it into a
 * {@link CollectiveException} whose message says it in the user's terms.
 */
final class GlooError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** In the order of finetune_gloo.cc's {@code Kind}. */
    enum Kind {
        /** A connection to a peer closed or was reset: the peer process is most likely gone. */
        CLOSED,
        /** Nothing arrived within the timeout: a peer is hung, or slower than the timeout allows. */
        TIMEOUT,
        /** Anything else (bad address, bind failure, an engine check). */
        OTHER
    }

    private final Kind kind;
    private final int peer;

    GlooError(int kind, int peer, String detail) {
        super(detail);
        Kind[] kinds = Kind.values();
        this.kind = kind >= 0 && kind < kinds.length ? kinds[kind] : Kind.OTHER;
        this.peer = peer;
    }

    Kind kind() {
        return kind;
    }

    /** The peer rank Gloo's message names, or -1. */
    int peer() {
        return peer;
    }

    /**
     * The failure in words, without the rank prefix: {@code all-reduce failed: connection to rank 1 closed (...)}. Where
     * Gloo's message names no address we know but the world has two ranks, the peer can only be the other one.
     */
    String describe(String operation, long timeoutMillis, int rank, int worldSize) {
        int peer = this.peer >= 0 ? this.peer : worldSize == 2 ? 1 - rank : -1;
        String what = switch (kind) {
            case CLOSED -> peer >= 0
                    ? "connection to rank " + peer + " closed (did rank " + peer + " die?)"
                    : "a connection to a peer closed (did a rank die?)";
            case TIMEOUT -> "timed out after " + CollectiveException.seconds(timeoutMillis) + " waiting for "
                    + (peer >= 0 ? "rank " + peer : "a peer") + " (hung, or slower than the timeout)";
            case OTHER -> "engine error";
        };
        return operation + " failed: " + what + " [gloo: " + getMessage() + "]";
    }
}
