package io.finetune.trainer.safetensors;

import java.nio.file.Path;

/** One tensor's header entry: where its bytes are (absolute file offsets) and how to widen them. */
public record TensorInfo(String name, DType dtype, long[] shape, Path file, long start, long end) {
    public long numel() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }
}
