package io.finetune.trainer.method.galore;

import ai.djl.ndarray.NDManager;
import io.finetune.api.v1alpha1.MethodType;
import io.finetune.api.v1alpha1.TargetModules;
import io.finetune.trainer.method.ActivationMemory;
import io.finetune.trainer.method.MemoryEstimate;
import io.finetune.trainer.method.MethodOutput;
import io.finetune.trainer.method.OutputTarget;
import io.finetune.trainer.method.PlanInputs;
import io.finetune.trainer.method.TargetModulesNotFoundException;
import io.finetune.trainer.method.TrainingMethod;
import io.finetune.trainer.method.full.FullMethod;
import io.finetune.trainer.model.Linear;
import io.finetune.trainer.model.LlamaModel;
import io.finetune.trainer.model.ModelConfig;
import io.finetune.trainer.model.Parameter;
import io.finetune.trainer.optim.Optimizer;
import io.finetune.trainer.optim.ParamGroup;
import io.finetune.trainer.spec.GaloreSettings;
import io.finetune.trainer.spec.TrainingSettings;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * GaLore (Zhao et al. 2024, arXiv 2403.03507): every parameter trains, as in Full, but the 2-D weights of the linears chosen
 * by {@code spec.method.galore.targetModules} get the projected {@link GaloreOptimizer} update; embeddings, norms and lm_head
 * (excluded by all-linear) use plain AdamW, as galore_torch's torchrun_main.py groups them. The output is a full Hugging Face
 * model directory, usable as another job's base model; from an {@code init-model} directory this is GaLore pre-training.
 */
public final class GaloreMethod implements TrainingMethod {
    private final GaloreSettings spec;
    private final FullMethod full = new FullMethod();
    private final Set<Parameter> targeted = Collections.newSetFromMap(new IdentityHashMap<>());
    private final List<String> targetedNames = new ArrayList<>();

    public GaloreMethod(GaloreSettings spec) {
        this.spec = spec;
    }

    @Override
    public MethodType type() {
        return MethodType.GaLore;
    }

    @Override
    public void attach(LlamaModel model, long seed) {
        full.attach(model, seed);
        for (Linear lin : model.linears()) {
            if (TargetModules.matches(spec.targetModules(), lin.name()) && lin.weight().array().getShape().dimension() == 2) {
                if (targeted.add(lin.weight())) {
                    targetedNames.add(lin.name());
                }
            }
        }
        if (targeted.isEmpty()) {
            throw new TargetModulesNotFoundException("spec.method.galore.targetModules " + spec.targetModules()
                    + " matches no linear module of this model (modules are named like "
                    + model.linears().get(0).name() + ", lm_head)");
        }
    }

    /** Module names whose weights get the projected update, in model order. */
    public List<String> targetedModules() {
        return List.copyOf(targetedNames);
    }

    @Override
    public Optimizer createOptimizer(List<ParamGroup> groups, TrainingSettings training, NDManager manager) {
        return new GaloreOptimizer(groups, targeted, spec, training.seed(), manager);
    }

    /**
     * Every parameter trains; targeted 2-D weights keep Adam moments (r, max) x2 and a projector (min, r), the others plain
     * Adam moments (GaLore paper Table 1; methods.md §4).
     */
    @Override
    public MemoryEstimate estimateMemory(ModelConfig dims, PlanInputs in) {
        long total = dims.totalParams();
        long stateValues = 0;
        long projected = 0;
        for (ModelConfig.LinearShape l : dims.linears()) {
            if (TargetModules.matches(spec.targetModules(), l.name())) {
                long min = Math.min(l.in(), l.out());
                long max = Math.max(l.in(), l.out());
                long r = Math.min(spec.rank(), min);
                stateValues += 2 * r * max + r * min + (l.bias() ? 2 * l.out() : 0);
                projected += l.params();
            }
        }
        stateValues += 2 * (total - projected); // embeddings, norms, lm_head, untargeted layers: plain AdamW
        return new MemoryEstimate(MethodType.GaLore, total, total, total * MemoryEstimate.FP32_BYTES,
                total * MemoryEstimate.FP32_BYTES, stateValues * MemoryEstimate.ADAM_STATE_BYTES,
                ActivationMemory.bytes(dims, in, List.of(), ActivationMemory.Trains.WEIGHTS, false));
    }

    @Override
    public MethodOutput saveOutput(LlamaModel model, OutputTarget target) throws IOException {
        return full.saveOutput(model, target);
    }
}
