package io.finetune.trainer.distributed;

/** How gradients are grouped for the all-reduce: buckets of at most 25 MiB of floats, PyTorch DDP's bucket_cap_mb default. */
public final class GradientBuckets {
    public static final int BUCKET_FLOATS = 25 * 1024 * 1024 / Float.BYTES;

    private GradientBuckets() {
    }
}
