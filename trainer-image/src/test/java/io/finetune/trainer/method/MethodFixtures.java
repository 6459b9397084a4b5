package io.finetune.trainer.method;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import io.finetune.api.v1alpha1.GaloreSpec;
import io.finetune.api.v1alpha1.LoraSpec;
import io.finetune.trainer.data.Batch;
import io.finetune.trainer.model.CausalLmLoss;
import io.finetune.trainer.model.ForwardContext;
import io.finetune.trainer.model.LlamaModel;
import io.finetune.trainer.model.Parameter;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Shared helpers for the method tests: tiny LoRA settings, logits, one backward pass, snapshots. */
public final class MethodFixtures {
    private MethodFixtures() {
    }

    public static LoraSpec lora(List<String> targets) {
        LoraSpec s = new LoraSpec();
        s.rank = 4;
        s.alpha = 8.0;
        s.targetModules = targets;
        return s;
    }

    /** Tiny GaLore settings: rank 4, a new basis every 5 steps, scale 1. */
    public static GaloreSpec galore(List<String> targets) {
        GaloreSpec g = new GaloreSpec();
        g.rank = 4;
        g.updateProjectionGap = 5;
        g.scale = 1.0;
        g.targetModules = targets;
        return g;
    }

    public static float[] logits(LlamaModel model, Batch batch) {
        try (NDManager sub = model.manager().newSubManager()) {
            model.attachTo(sub);
            return model.forward(sub, batch, ForwardContext.EVAL).toFloatArray();
        }
    }

    /** Gradients of the mean token loss on {@code batch} for the given parameters (host copies), then zeroed again. */
    public static Map<String, float[]> gradients(LlamaModel model, Batch batch, List<Parameter> params) {
        Map<String, float[]> out = new HashMap<>();
        try (NDManager sub = model.manager().newSubManager()) {
            model.attachTo(sub);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray logits = model.forward(sub, batch, ForwardContext.EVAL);
                gc.backward(CausalLmLoss.sum(sub, logits, batch).div(batch.lossTokens()));
            }
            for (Parameter p : params) {
                NDArray g = p.array().getGradient();
                g.attach(sub);
                out.put(p.name(), g.toFloatArray());
                g.muli(0);
            }
        }
        return out;
    }

    public static Map<String, float[]> snapshot(LlamaModel model) {
        Map<String, float[]> m = new HashMap<>();
        for (Parameter p : model.allParameters()) {
            m.put(p.name(), p.array().toFloatArray());
        }
        return m;
    }

    public static float maxAbsDiff(float[] a, float[] b) {
        float m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    public static float maxAbs(float[] a) {
        float m = 0;
        for (float v : a) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }
}
