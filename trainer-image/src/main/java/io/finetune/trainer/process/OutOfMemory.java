package io.finetune.trainer.process;

import java.util.Locale;

/**
 * Whether a failure means the process ran out of memory: the CLI's resource exit class ({@code failure/Failure}, for the CLI's exit class and the
 * pod's reason OutOfMemory alike) uses this one test, for allocation failures that have no type of their own.
 */
public final class OutOfMemory {
    private OutOfMemory() {
    }

    /**
     * Java heap exhaustion, or libtorch failing to allocate (its messages: "DefaultCPUAllocator: can't allocate memory",
     * "CUDA out of memory"), anywhere in the cause chain.
     */
    public static boolean causedBy(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof OutOfMemoryError) {
                return true;
            }
            String m = t.getMessage() == null ? "" : t.getMessage().toLowerCase(Locale.ROOT);
            if (m.contains("out of memory") || m.contains("can't allocate memory")) {
                return true;
            }
        }
        return false;
    }
}
