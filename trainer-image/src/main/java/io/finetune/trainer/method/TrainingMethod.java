package io.finetune.trainer.method;

import ai.djl.ndarray.NDManager;
import io.finetune.api.v1alpha1.MethodType;
import io.finetune.api.v1alpha1.TrainingSpec;
import io.finetune.trainer.model.LlamaModel;
import io.finetune.trainer.model.Parameter;
import io.finetune.trainer.optim.AdamW;
import io.finetune.trainer.optim.Optimizer;
import io.finetune.trainer.optim.ParamGroup;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A fine-tuning method: the extension point for LoRA, DoRA, LoRA+, GaLore, Full. The trainer calls, in order:
 * <ol>
 *   <li>{@link #attach} once: wrap the model's {@code Linear}s with {@link io.finetune.trainer.model.LinearAdapter}s (adapter
 *       methods) and/or mark base parameters trainable ({@link Parameter#makeTrainable()}). Everything else stays frozen.</li>
 *   <li>{@link #parameterGroups}: how the trainable parameters are grouped for the optimizer (lr multiplier, weight decay);
 *       LoRA+ only overrides this.</li>
 *   <li>{@link #createOptimizer}: AdamW by default; GaLore returns its projected optimizer.</li>
 *   <li>{@link #saveOutput} at the end: a PEFT adapter, or full weights in Hugging Face layout.</li>
 * </ol>
 * Implementations are created by {@link TrainingMethods#create} (add a case there). How the seed methods fit:
 * <ul>
 *   <li>DoRA: subclass {@link LoraMethod}, override {@code newAdapter} to return a DoRA {@code LinearAdapter} (its magnitude
 *       vector is one more {@link Parameter} named {@code <module>.lora_magnitude_vector}) and {@code useDora()}.</li>
 *   <li>LoRA+: subclass {@link LoraMethod}, override {@link #parameterGroups} (lora_B and 1-D params at lr x ratio).</li>
 *   <li>GaLore: mark base weights trainable in {@link #attach}, return a projected {@link Optimizer} from
 *       {@link #createOptimizer}; write full weights in {@link #saveOutput} (the job runner adds config.json/tokenizer for
 *       non-adapter methods).</li>
 * </ul>
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

    /** Default grouping: 2-D weights get the configured weight decay, 1-D ones (norms, biases) none; lr multiplier 1. */
    default List<ParamGroup> parameterGroups(LlamaModel model, TrainingSpec training) {
        List<Parameter> decay = new ArrayList<>();
        List<Parameter> noDecay = new ArrayList<>();
        for (Parameter p : trainableParameters(model)) {
            (p.array().getShape().dimension() >= 2 ? decay : noDecay).add(p);
        }
        return List.of(new ParamGroup("decay", decay, 1.0, training.weightDecay),
                new ParamGroup("no_decay", noDecay, 1.0, 0.0));
    }

    default Optimizer createOptimizer(List<ParamGroup> groups, TrainingSpec training, NDManager manager) {
        return new AdamW(groups, manager);
    }

    /** Writes the result into {@code outputDir} (CONTRACTS.md D); {@code baseModel} names the base for adapter configs. */
    void saveOutput(LlamaModel model, Path outputDir, String baseModel) throws IOException;
}
