package io.finetune.trainer.process;

/** Sizes libtorch's thread pools from OMP_NUM_THREADS (the container's CPU limit) before the engine starts. */
public final class Threads {
    private Threads() {
    }

    public static void configure() {
        String omp = System.getenv("OMP_NUM_THREADS");
        if (omp != null && omp.matches("\\d+") && System.getProperty("ai.djl.pytorch.num_threads") == null) {
            System.setProperty("ai.djl.pytorch.num_threads", omp);
            System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
        }
    }
}
