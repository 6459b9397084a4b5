package io.finetune.trainer.safetensors;

import java.io.IOException;

/** A safetensors file that cannot be read as a model; the message names the file and, when one is at fault, the tensor. */
public final class SafetensorsException extends IOException {
    public SafetensorsException(String message) {
        super(message);
    }
}
