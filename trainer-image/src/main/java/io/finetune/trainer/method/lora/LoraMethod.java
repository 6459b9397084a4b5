package io.finetune.trainer.method.lora;

import io.finetune.api.ArtifactFormat;
import io.finetune.api.v1alpha1.MethodType;
import io.finetune.api.v1alpha1.TargetModules;
import io.finetune.trainer.safetensors.ModelWeights;
import io.finetune.trainer.safetensors.SafetensorsWriter;
import io.finetune.trainer.layout.RunLayout;
import io.finetune.trainer.method.ActivationMemory;
import io.finetune.trainer.method.MemoryEstimate;
import io.finetune.trainer.method.MethodOutput;
import io.finetune.trainer.method.OutputTarget;
import io.finetune.trainer.method.PlanInputs;
import io.finetune.trainer.method.TargetModulesNotFoundException;
import io.finetune.trainer.method.TrainingMethod;
import io.finetune.trainer.model.Linear;
import io.finetune.trainer.model.LlamaModel;
import io.finetune.trainer.model.ModelConfig;
import io.finetune.trainer.model.ModelException;
import io.finetune.trainer.model.Parameter;
import io.finetune.trainer.optim.ParamGroup;
import io.finetune.trainer.spec.LoraSettings;
import io.finetune.trainer.spec.TrainingSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * LoRA: a {@link LoraAdapter} on every linear module selected by targetModules (PEFT list rule; all-linear excludes lm_head),
 * base weights frozen. DoRA and LoRA+ are the same method with another {@link LoraVariant} (the adapter layer, resp. the
 * optimizer grouping), as in PEFT. The output is a PEFT adapter directory, plus merged full weights under merged/ when
 * spec.output.merge asks for them.
 */
public final class LoraMethod implements TrainingMethod {
    private final LoraSettings spec;
    private final LoraVariant variant;
    private final List<Linear> adapted = new ArrayList<>();

    private LoraMethod(LoraSettings spec, LoraVariant variant) {
        this.spec = spec;
        this.variant = variant;
    }

    /**
     * LoRA, DoRA (Liu et al. 2024: LoRA with {@link DoraAdapter} layers) or LoRA+ (Hayou et al. 2024: lora_B at
     * learningRateRatio times the learning rate), as {@code settings.type()} says.
     */
    public static LoraMethod of(LoraSettings settings) {
        LoraVariant variant = switch (settings.type()) {
            case DoRA -> new Dora();
            case LoRAPlus -> new LoraPlus(settings.learningRateRatio());
            default -> LoraVariant.LORA;
        };
        return new LoraMethod(settings, variant);
    }

    @Override
    public MethodType type() {
        return variant.type();
    }

    @Override
    public void attach(LlamaModel model, long seed) {
        requireLowRank(model);
        List<String> names = new ArrayList<>();
        int index = 0;
        for (Linear lin : model.linears()) {
            names.add(lin.name());
            index++;
            if (lin.adapter() == null && TargetModules.matches(spec.targetModules(), lin.name())) {
                // One generator per module, derived from (seed, module index): adding a module does not reshuffle the others.
                SplittableRandom rng = new SplittableRandom(seed * 1_000_003L + index);
                lin.setAdapter(variant.newAdapter(lin, spec, rng, model.manager()));
                adapted.add(lin);
            }
        }
        if (adapted.isEmpty()) {
            throw new TargetModulesNotFoundException("spec.method.lora.targetModules " + spec.targetModules()
                    + " matches no linear module of this model (modules are named like " + names.get(0) + ", lm_head)");
        }
    }

    /**
     * The rank must be below min(in, out) of every targeted matrix: at or above it B·A can express any update of that
     * matrix, so the adapter is no longer low-rank (only bigger and slower than training the matrix itself). Checked
     * before any adapter is created; names the first matrix that is too small.
     */
    private void requireLowRank(LlamaModel model) {
        for (Linear lin : model.linears()) {
            long min = Math.min(lin.inFeatures(), lin.outFeatures());
            if (TargetModules.matches(spec.targetModules(), lin.name()) && spec.rank() >= min) {
                throw new ModelException("spec.method.lora.rank " + spec.rank() + " is not below min(in, out) = " + min + " of "
                        + lin.name() + " (" + lin.inFeatures() + " in, " + lin.outFeatures() + " out): lower the rank below "
                        + min + " or leave that module out of spec.method.lora.targetModules");
            }
        }
    }

    @Override
    public List<ParamGroup> parameterGroups(LlamaModel model, TrainingSettings training) {
        return variant.parameterGroups(trainableParameters(model), training);
    }

    /** The modules that carry an adapter, in model order. */
    public List<Linear> adaptedModules() {
        return adapted;
    }

    /**
     * Each targeted (out, in) linear gains A (r, in) and B (out, r), and only those train (methods.md §1, §3), plus what the
     * variant adds (DoRA: the magnitude (out), §2). Frozen 2-D weights are held in {@link PlanInputs#valueBytes()}, frozen
     * norm weights and biases in fp32; the activations are {@link ActivationMemory}'s count with the adapters' tensors.
     * Over a 4-bit base ({@link PlanInputs#quantization()}) the decoder linears count at their stored size and each layer
     * as recomputed in the backward.
     */
    @Override
    public MemoryEstimate estimateMemory(ModelConfig dims, PlanInputs in) {
        long trainable = 0;
        List<ActivationMemory.Adapter> adapters = new ArrayList<>();
        for (ModelConfig.LinearShape l : dims.linears()) {
            if (TargetModules.matches(spec.targetModules(), l.name())) {
                trainable += (long) spec.rank() * (l.in() + l.out()) + variant.extraTrainable(l.out());
                adapters.add(new ActivationMemory.Adapter(l.in(), l.out(), spec.rank()));
            }
        }
        long total = dims.totalParams() + trainable;
        long frozen2d = dims.weightMatrixParams();
        long frozenWeightBytes = frozen2d * in.valueBytes() + (dims.totalParams() - frozen2d) * MemoryEstimate.FP32_BYTES;
        if (in.quantization() != null) {
            // QLoRA: the decoder linears at their stored size (codes + constants), one tensor each; embedding and lm_head
            // stay in valueBytes; each layer is recomputed in the backward.
            long quantizedBytes = 0;
            long quantizedParams = 0;
            for (ModelConfig.LinearShape l : dims.linears()) {
                if (!l.name().equals(ModelConfig.LM_HEAD)) {
                    quantizedBytes += in.quantization().bytes(l.in() * l.out());
                    quantizedParams += l.in() * l.out();
                }
            }
            frozenWeightBytes += quantizedBytes - quantizedParams * in.valueBytes();
        }
        long activations = ActivationMemory.bytes(dims, in, adapters,
                variant.useDora() ? ActivationMemory.Trains.DORA : ActivationMemory.Trains.LORA, in.quantization() != null);
        return new MemoryEstimate(type(), trainable, total, frozenWeightBytes + trainable * MemoryEstimate.FP32_BYTES,
                trainable * MemoryEstimate.FP32_BYTES, 2L * trainable * MemoryEstimate.ADAM_STATE_BYTES, activations);
    }

    /** The PEFT adapter; with {@code merge}, also the base weights with every adapter folded in under merged/. */
    @Override
    public MethodOutput saveOutput(LlamaModel model, OutputTarget target) throws IOException {
        List<Parameter> tensors = new ArrayList<>();
        for (Linear lin : adapted) {
            tensors.addAll(lin.adapter().parameters());
        }
        Path dir = target.dir();
        PeftAdapterWriter.write(dir, tensors, adapted.stream().map(Linear::name).toList(), spec, variant.useDora(),
                target.baseModel());
        if (target.merge()) {
            Path merged = RunLayout.mergedIn(dir);
            Files.createDirectories(merged);
            SafetensorsWriter.write(merged.resolve(ModelWeights.SINGLE), AdapterMerge.mergedWeights(model));
            target.copyModelFiles(merged);
        }
        String quantized = model.quantizer() == null ? null : model.quantizer().type().name().toLowerCase(Locale.ROOT);
        return new MethodOutput(ArtifactFormat.PEFT_LORA, PeftAdapterWriter.servingOf(dir, quantized));
    }
}
