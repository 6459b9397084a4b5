package io.finetune.trainer.safetensors;

import java.util.Optional;

/** Safetensors dtypes this trainer reads (widened to fp32) or writes. Others are rejected with the tensor's name. */
public enum DType {
    F32(4), F16(2), BF16(2);

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    public int bytes() {
        return bytes;
    }

    /** The dtype for a header's "dtype" string, empty for ones we do not read (I64, F8_*, ...). */
    public static Optional<DType> parse(String name) {
        for (DType d : values()) {
            if (d.name().equals(name)) {
                return Optional.of(d);
            }
        }
        return Optional.empty();
    }
}
