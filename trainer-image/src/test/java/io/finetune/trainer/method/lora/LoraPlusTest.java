package io.finetune.trainer.method.lora;

import static io.finetune.trainer.method.MethodFixtures.lora;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.finetune.api.v1alpha1.LoraPlusSpec;
import io.finetune.api.v1alpha1.MethodSpec;
import io.finetune.api.v1alpha1.MethodType;
import io.finetune.api.v1alpha1.TrainingSpec;
import io.finetune.trainer.Specs;
import io.finetune.trainer.TinyModels;
import io.finetune.trainer.method.MethodFixtures;
import io.finetune.trainer.method.TrainingMethod;
import io.finetune.trainer.method.TrainingMethods;
import io.finetune.trainer.model.LlamaModel;
import io.finetune.trainer.model.Parameter;
import io.finetune.trainer.optim.Optimizer;
import io.finetune.trainer.optim.ParamGroup;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LoraPlusTest {
    private static final double RATIO = 16;

    private static LoraPlusSpec ratio(Double r) {
        LoraPlusSpec s = new LoraPlusSpec();
        s.learningRateRatio = r;
        return s;
    }

    /** Sets every trainable parameter's gradient to a fixed pattern, takes one optimizer step, returns the updates. */
    private static Map<String, float[]> oneStepUpdates(TrainingMethod method) {
        try (LlamaModel model = LlamaModel.random(TinyModels.config(false), 1, NDManager.newBaseManager())) {
            method.attach(model, 7);
            TrainingSpec ts = new TrainingSpec();
            ts.weightDecay = 0.0;
            List<Parameter> trainable = method.trainableParameters(model);
            // libtorch creates a parameter's .grad on the first backward; run one so the gradients can be overwritten below.
            MethodFixtures.gradients(model, TinyModels.batch(2, 24), trainable);
            Map<String, float[]> before = new HashMap<>();
            try (Optimizer opt = method.createOptimizer(method.parameterGroups(model, Specs.training(ts)), Specs.training(ts), model.manager());
                 NDManager sub = model.manager().newSubManager()) {
                for (Parameter p : trainable) {
                    before.put(p.name(), p.array().toFloatArray());
                    float[] g = new float[(int) p.numel()];
                    for (int i = 0; i < g.length; i++) {
                        g[i] = (float) Math.sin(0.37 * i + p.name().length()) * 1e-2f;
                    }
                    NDArray grad = p.array().getGradient();
                    grad.attach(sub);
                    grad.set(g);
                }
                opt.step(sub, 1e-3);
            }
            Map<String, float[]> delta = new HashMap<>();
            for (Parameter p : trainable) {
                float[] a = p.array().toFloatArray();
                float[] b = before.get(p.name());
                for (int i = 0; i < a.length; i++) {
                    a[i] -= b[i];
                }
                delta.put(p.name(), a);
            }
            return delta;
        }
    }

    @Test
    void bUpdateIsRatioTimesPlainLoraAndAUpdateIsUnchanged() {
        Map<String, float[]> plain = oneStepUpdates(LoraMethod.of(Specs.lora(lora(List.of("q_proj", "v_proj")))));
        Map<String, float[]> plus = oneStepUpdates(LoraMethod.of(Specs.loraPlus(lora(List.of("q_proj", "v_proj")), ratio(RATIO))));
        assertThat(plus.keySet()).isEqualTo(plain.keySet()).hasSize(8);
        for (String name : plain.keySet()) {
            double expected = name.contains("lora_B") ? RATIO : 1.0;
            float[] p = plain.get(name);
            float[] q = plus.get(name);
            assertThat(MethodFixtures.maxAbs(p)).as(name).isGreaterThan(1e-5f);
            for (int i = 0; i < p.length; i++) {
                assertThat((double) q[i]).as(name + "[" + i + "]")
                        .isCloseTo(expected * p[i], org.assertj.core.data.Offset.offset(1e-6 + 1e-4 * Math.abs(expected * p[i])));
            }
        }
    }

    @Test
    void groupsFollowPeft() {
        try (LlamaModel model = LlamaModel.random(TinyModels.config(false), 1, NDManager.newBaseManager())) {
            LoraMethod m = LoraMethod.of(Specs.loraPlus(lora(List.of("q_proj")), ratio(4.0)));
            m.attach(model, 1);
            TrainingSpec ts = new TrainingSpec();
            ts.weightDecay = 0.05;
            List<ParamGroup> groups = m.parameterGroups(model, Specs.training(ts));
            assertThat(groups.get(0).parameters()).extracting(Parameter::name).allMatch(n -> n.endsWith("lora_A.weight"));
            assertThat(groups.get(0).lrMultiplier()).isEqualTo(1.0);
            assertThat(groups.get(1).parameters()).extracting(Parameter::name).allMatch(n -> n.endsWith("lora_B.weight"));
            assertThat(groups.get(1).lrMultiplier()).isEqualTo(4.0);
            assertThat(groups.get(1).weightDecay()).isEqualTo(0.05);
        }
    }

    @Test
    void ratioIsRequiredAndAtLeastOne() {
        MethodSpec spec = new MethodSpec();
        spec.type = MethodType.LoRAPlus;
        assertThatThrownBy(() -> TrainingMethods.create(Specs.method(spec))).hasMessageContaining("spec.method.loraPlus.learningRateRatio");
        spec.loraPlus = ratio(0.5);
        assertThatThrownBy(() -> TrainingMethods.create(Specs.method(spec))).hasMessageContaining(">= 1");
        spec.loraPlus = ratio(2.0);
        assertThat(TrainingMethods.create(Specs.method(spec)).type()).isEqualTo(MethodType.LoRAPlus);
    }
}
