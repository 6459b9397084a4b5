package io.finetune.trainer.model;

import ai.djl.ndarray.NDArray;

/**
 * A named weight. {@code name} is the Hugging Face / PEFT tensor name (e.g. {@code model.layers.0.self_attn.q_proj.weight},
 * {@code model.layers.0.self_attn.q_proj.lora_A.weight}); the array lives in the model's long-lived manager.
 * Trainable parameters have a gradient attached; frozen ones never do (DJL has no setRequiresGradient(false)).
 */
public final class Parameter {
    private final String name;
    private NDArray array;
    private boolean trainable;

    public Parameter(String name, NDArray array) {
        this.name = name;
        this.array = array;
    }

    public String name() {
        return name;
    }

    public NDArray array() {
        return array;
    }

    public boolean trainable() {
        return trainable;
    }

    /** Marks the parameter trainable and attaches a gradient; once trainable, it stays so. */
    public void makeTrainable() {
        if (!trainable) {
            array.setRequiresGradient(true);
            trainable = true;
        }
    }

    /**
     * Replaces a frozen parameter's array by {@code held} (the same values in another dtype, e.g. bf16 under mixed precision)
     * and closes the old one. Trainable parameters keep their fp32 array: the optimizer updates it in place.
     */
    public void holdAs(NDArray held) {
        if (trainable) {
            throw new IllegalStateException(name + " is trainable: its fp32 array is the master weight");
        }
        NDArray old = array;
        array = held;
        old.close();
    }

    public long numel() {
        return array.getShape().size();
    }
}
