package io.finetune.trainer.distributed;

/**
 * What the native NCCL binding throws (constructed from C++, see native/nccl/nccl_wait.cc): how it failed, the NCCL or CUDA code
 * (0 when none), and the binding's message. {@link NcclProcessGroup} turns it into a {@link CollectiveException} in the
 * user's terms.
 */
final class NcclError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** In the order of native/nccl/nccl_api.h's {@code Kind}. */
    enum Kind {
        /** libnccl or libcudart could not be opened, lacks a function, or is too old. */
        LOAD,
        /** A CUDA runtime call failed (no device, out of memory, a kernel fault). */
        CUDA,
        /** NCCL reported an error of its own. */
        NCCL,
        /** The collective did not complete within the timeout (a peer hung or died without NCCL noticing). */
        TIMEOUT,
        /** ncclRemoteError: NCCL saw a peer fail (its connection closed). */
        REMOTE
    }

    private final Kind kind;
    private final int code;

    NcclError(int kind, int code, String detail) {
        super(detail);
        Kind[] kinds = Kind.values();
        this.kind = kind >= 0 && kind < kinds.length ? kinds[kind] : Kind.NCCL;
        this.code = code;
    }

    Kind kind() {
        return kind;
    }

    /** The NCCL result or CUDA error code, 0 when none applies. */
    int code() {
        return code;
    }

    /** The failure in words, without the rank prefix: {@code all-reduce failed: timed out after 20 s ... [nccl: ...]}. */
    String describe(String operation, long timeoutMillis, int rank, int worldSize) {
        String peer = worldSize == 2 ? "rank " + (1 - rank) : "a peer";
        String what = switch (kind) {
            case TIMEOUT -> "timed out after " + CollectiveException.seconds(timeoutMillis) + " waiting for " + peer
                    + " (hung, dead, or slower than the timeout); the communicator was aborted";
            case REMOTE -> "NCCL lost " + peer + " (did " + (worldSize == 2 ? peer : "a rank") + " die?)";
            case CUDA -> "CUDA error";
            case NCCL -> "NCCL error";
            case LOAD -> "NCCL is not usable";
        };
        return operation + " failed: " + what + " [nccl: " + getMessage() + "]";
    }
}
