package io.finetune.trainer.method;

import ai.djl.ndarray.NDManager;
import io.finetune.api.v1alpha1.MethodType;
import io.finetune.trainer.model.LlamaModel;
import io.finetune.trainer.model.ModelConfig;
import io.finetune.trainer.model.Parameter;
import io.finetune.trainer.optim.AdamW;
import io.finetune.trainer.optim.Optimizer;
import io.finetune.trainer.optim.ParamGroup;
import io.finetune.trainer.spec.TrainingSettings;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A fine-tuning method: the extension point for LoRA, DoRA, LoRA+ ({@code method.lora}), GaLore ({@code method.galore}) and
 * Full ({@code method.full}). Each method package owns its facts. The trainer calls, in order:
 * <ol>
 *   <li>{@link #attach} once: wrap the model's {@code Linear}s with {@link io.finetune.trainer.model.LinearAdapter}s (adapter
 *       methods) and/or mark base parameters trainable ({@link Parameter#makeTrainable()}). Everything else stays frozen.</li>
 *   <li>{@link #parameterGroups}: how the trainable parameters are grouped for the optimizer (lr multiplier, weight decay);
 *       LoRA+ only changes this.</li>
 *   <li>{@link #createOptimizer}: AdamW by default; GaLore returns its projected optimizer.</li>
 *   <li>{@link #saveOutput} at the end: a PEFT adapter, or full weights in Hugging Face layout; returns the format and the
 *       servers that load it.</li>
 * </ol>
 * {@link #estimateMemory} is the method's memory plan, from the model's dimensions alone (the {@code plan} command and the
 * fail-fast check before training on a GPU). Implementations are created by {@link TrainingMethods#create}: a new method is
 * one package here, one case there and its {@link MethodType}.
 * Memory figures: {@link Optimizer#stateBytes()} is reported as optimizerStateBytes in training_summary.json.
 */
public interface TrainingMethod {
    MethodType type();

    /** Adapts the model in place; {@code seed} makes adapter initialisation repeatable. */
    void attach(LlamaModel model, long seed);

    /** The parameters the optimizer updates (after {@link #attach}). */
    default List<Parameter> trainableParameters(LlamaModel model) {
        return model.allParameters().stream().filter(Parameter::trainable).toList();
    }

    /** Default grouping: see {@link #groupsByDimension}. */
    default List<ParamGroup> parameterGroups(LlamaModel model, TrainingSettings training) {
        return groupsByDimension(trainableParameters(model), training);
    }

    /** 2-D weights get the configured weight decay, 1-D ones (norms, biases) none; lr multiplier 1. */
    static List<ParamGroup> groupsByDimension(List<Parameter> trainable, TrainingSettings training) {
        List<Parameter> decay = new ArrayList<>();
        List<Parameter> noDecay = new ArrayList<>();
        for (Parameter p : trainable) {
            (p.array().getShape().dimension() >= 2 ? decay : noDecay).add(p);
        }
        return List.of(new ParamGroup("decay", decay, 1.0, training.weightDecay()),
                new ParamGroup("no_decay", noDecay, 1.0, 0.0));
    }

    default Optimizer createOptimizer(List<ParamGroup> groups, TrainingSettings training, NDManager manager) {
        return new AdamW(groups, manager);
    }

    /** Training memory for a model of these dimensions, before any weight is loaded. */
    MemoryEstimate estimateMemory(ModelConfig model, PlanInputs inputs);

    /** Writes the result into {@code target.dir()} (docs/contracts.md D) and says what it is. */
    MethodOutput saveOutput(LlamaModel model, OutputTarget target) throws IOException;
}
