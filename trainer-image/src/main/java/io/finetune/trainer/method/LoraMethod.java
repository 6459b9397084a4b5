package io.finetune.trainer.method;

import io.finetune.api.v1alpha1.LoraSpec;
import io.finetune.api.v1alpha1.MethodType;
import io.finetune.api.v1alpha1.TargetModules;
import io.finetune.trainer.model.Linear;
import io.finetune.trainer.model.LinearAdapter;
import io.finetune.trainer.model.LlamaModel;
import io.finetune.trainer.model.ModelException;
import io.finetune.trainer.model.Parameter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * LoRA: a {@link LoraAdapter} on every linear module selected by targetModules (PEFT list rule; all-linear excludes lm_head),
 * base weights frozen. Subclasses (DoRA, LoRA+) override {@link #newAdapter}, {@link #useDora} or parameter grouping.
 */
public class LoraMethod implements TrainingMethod {
    protected final LoraSpec spec;
    private final List<Linear> adapted = new ArrayList<>();

    public LoraMethod(LoraSpec spec) {
        this.spec = spec;
    }

    @Override
    public MethodType type() {
        return MethodType.LoRA;
    }

    @Override
    public void attach(LlamaModel model, long seed) {
        requireLowRank(model);
        List<String> names = new ArrayList<>();
        int index = 0;
        for (Linear lin : model.linears()) {
            names.add(lin.name());
            index++;
            if (lin.adapter() == null && TargetModules.matches(spec.targetModules, lin.name())) {
                // One generator per module, derived from (seed, module index): adding a module does not reshuffle the others.
                SplittableRandom rng = new SplittableRandom(seed * 1_000_003L + index);
                lin.setAdapter(newAdapter(lin, rng, model));
                adapted.add(lin);
            }
        }
        if (adapted.isEmpty()) {
            throw new IllegalArgumentException("spec.method.lora.targetModules " + spec.targetModules
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
            if (TargetModules.matches(spec.targetModules, lin.name()) && spec.rank >= min) {
                throw new ModelException("spec.method.lora.rank " + spec.rank + " is not below min(in, out) = " + min + " of "
                        + lin.name() + " (" + lin.inFeatures() + " in, " + lin.outFeatures() + " out): lower the rank below "
                        + min + " or leave that module out of spec.method.lora.targetModules");
            }
        }
    }

    protected LinearAdapter newAdapter(Linear base, SplittableRandom rng, LlamaModel model) {
        return new LoraAdapter(base, spec.rank, spec.scaling(), spec.dropout, spec.init, rng, model.manager());
    }

    protected boolean useDora() {
        return false;
    }

    /** The modules that carry an adapter, in model order. */
    public List<Linear> adaptedModules() {
        return adapted;
    }

    @Override
    public void saveOutput(LlamaModel model, Path outputDir, String baseModel) throws IOException {
        List<Parameter> tensors = new ArrayList<>();
        for (Linear lin : adapted) {
            tensors.addAll(lin.adapter().parameters());
        }
        PeftAdapterWriter.write(outputDir, tensors, adapted.stream().map(Linear::name).toList(), spec, useDora(), baseModel);
    }
}
