package io.finetune.api.v1alpha1;

/** The fine-tuning methods; formulas in docs/methods (LoRA, DoRA, LoRA+, GaLore papers). */
public enum MethodType {
    /** Low-rank adapter W' = W + (alpha/r)·B·A on the targeted linear layers. Output: PEFT adapter. */
    LoRA,
    /** Weight-decomposed LoRA: magnitude vector × LoRA-updated direction. Output: PEFT adapter (use_dora). */
    DoRA,
    /** LoRA whose B matrices learn learningRateRatio times faster than A. Output: PEFT adapter. */
    LoRAPlus,
    /** Full-parameter training with gradients projected to rank r (GaLore). Output: full weights. */
    GaLore,
    /** Every parameter trained with AdamW. Output: full weights. */
    Full;

    /** True for the methods whose output is a PEFT LoRA adapter (and that read spec.method.lora). */
    public boolean isAdapter() {
        return this == LoRA || this == DoRA || this == LoRAPlus;
    }
}
