package io.finetune.trainer.spec;

import io.finetune.api.v1alpha1.LoraInit;
import io.finetune.api.v1alpha1.MethodType;
import java.util.List;
import java.util.Objects;

/**
 * LoRA, DoRA and LoRA+ settings ({@code spec.method.lora}, plus {@code loraPlus.learningRateRatio}).
 *
 * @param type              LoRA, DoRA or LoRAPlus
 * @param rank              r
 * @param alpha             the scale numerator (see {@link #scaling()})
 * @param dropout           dropout on the adapter's input, in [0, 1)
 * @param targetModules     PEFT-style entries, or the single value all-linear
 * @param rsLoRA            scale by alpha/sqrt(r) instead of alpha/r
 * @param init              how A and B start (one of them zero, so step 0 changes nothing)
 * @param learningRateRatio LoRA+'s lr(B) / lr(A); 1 for LoRA and DoRA
 */
public record LoraSettings(MethodType type, int rank, double alpha, double dropout, List<String> targetModules,
                           boolean rsLoRA, LoraInit init, double learningRateRatio) implements MethodSettings {
    public LoraSettings {
        if (type != MethodType.LoRA && type != MethodType.DoRA && type != MethodType.LoRAPlus) {
            throw new IllegalArgumentException("LoRA settings are for LoRA, DoRA and LoRAPlus, not " + type);
        }
        if (rank < 1 || !(alpha > 0) || !(dropout >= 0 && dropout < 1)) {
            throw new IllegalArgumentException("spec.method.lora: rank must be >= 1, alpha > 0, dropout in [0, 1); got rank "
                    + rank + ", alpha " + alpha + ", dropout " + dropout);
        }
        if (!(learningRateRatio >= 1)) {
            throw new IllegalArgumentException("spec.method.loraPlus.learningRateRatio is required and must be >= 1, got "
                    + learningRateRatio);
        }
        targetModules = List.copyOf(targetModules);
        Objects.requireNonNull(init, "spec.method.lora.init");
    }

    /** The scale applied to B·A: alpha/r, or alpha/sqrt(r) with rsLoRA (PEFT tuners/lora/layer.py). */
    public double scaling() {
        return rsLoRA ? alpha / Math.sqrt(rank) : alpha / rank;
    }

    /** The same adapter settings for another LoRA variant. */
    public LoraSettings as(MethodType variant, double ratio) {
        return new LoraSettings(variant, rank, alpha, dropout, targetModules, rsLoRA, init, ratio);
    }
}
