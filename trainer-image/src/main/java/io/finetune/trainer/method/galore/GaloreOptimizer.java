package io.finetune.trainer.method.galore;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.finetune.trainer.safetensors.FloatTensor;
import io.finetune.trainer.linalg.LinearAlgebra;
import io.finetune.trainer.model.Parameter;
import io.finetune.trainer.optim.AdamW;
import io.finetune.trainer.optim.AdamWSettings;
import io.finetune.trainer.optim.Optimizer;
import io.finetune.trainer.optim.ParamGroup;
import io.finetune.trainer.spec.GaloreSettings;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The optimizer of a GaLore run: one {@link GaloreAdamW} per targeted 2-D weight (compact moments + projector), the trainer's
 * {@link AdamW} for every other trainable parameter. Learning-rate multipliers and weight decay come from the parameter
 * groups, as for AdamW. State names: {@code <param>.exp_avg}, {@code .exp_avg_sq}, {@code .galore_projector}, plus "step".
 */
public final class GaloreOptimizer implements Optimizer {
    private record Target(Parameter parameter, GaloreAdamW update, double lrMultiplier) {
    }

    private final LinearAlgebra linalg;
    private final NDManager state;
    private final List<Target> targets = new ArrayList<>();
    private final AdamW rest;

    /**
     * @param seed training seed: each matrix's randomized SVD draws from (seed, matrix index, step)
     */
    public GaloreOptimizer(List<ParamGroup> groups, Set<Parameter> projected, GaloreSettings settings, long seed,
                           NDManager parent) {
        this.linalg = new LinearAlgebra();
        this.state = parent.newSubManager();
        List<ParamGroup> plain = new ArrayList<>();
        int index = 0;
        for (ParamGroup g : groups) {
            List<Parameter> others = new ArrayList<>();
            for (Parameter p : g.parameters()) {
                if (projected.contains(p)) {
                    AdamWSettings adam = AdamWSettings.withWeightDecay(g.weightDecay());
                    long matrixSeed = seed * 1_000_003L + (index++) * 7919L;
                    targets.add(new Target(p, new GaloreAdamW(state, p.array().getShape(), settings, adam, linalg, matrixSeed),
                            g.lrMultiplier()));
                } else {
                    others.add(p);
                }
            }
            plain.add(new ParamGroup(g.name(), others, g.lrMultiplier(), g.weightDecay()));
        }
        this.rest = new AdamW(plain, state);
    }

    @Override
    public void step(NDManager sub, double lr) {
        rest.step(sub, lr);
        for (Target t : targets) {
            NDArray grad = t.parameter().array().getGradient();
            grad.attach(sub);
            t.update().step(t.parameter().array(), grad, (float) (lr * t.lrMultiplier()));
        }
    }

    /** Number of weights updated through a projection. */
    public int projectedMatrices() {
        return targets.size();
    }

    @Override
    public Map<String, FloatTensor> state() {
        Map<String, FloatTensor> s = new LinkedHashMap<>(rest.state());
        for (Target t : targets) {
            t.update().stateArrays().forEach((role, a) ->
                    s.put(t.parameter().name() + "." + (role.equals("projector") ? "galore_projector" : role), FloatTensor.of(a)));
        }
        return s;
    }

    @Override
    public void loadState(Map<String, FloatTensor> saved) {
        rest.loadState(saved);
        long step = (long) saved.get("step").data()[0];
        for (Target t : targets) {
            String name = t.parameter().name();
            FloatTensor m = require(saved, name + ".exp_avg");
            FloatTensor v = require(saved, name + ".exp_avg_sq");
            FloatTensor basis = saved.get(name + ".galore_projector");
            t.update().restore(m.data(), v.data(), basis == null ? null : basis.data(), step);
        }
    }

    private static FloatTensor require(Map<String, FloatTensor> saved, String key) {
        FloatTensor t = saved.get(key);
        if (t == null) {
            throw new IllegalStateException("checkpoint has no GaLore optimizer state '" + key + "'");
        }
        return t;
    }

    @Override
    public long stateBytes() {
        long bytes = rest.stateBytes();
        for (Target t : targets) {
            bytes += t.update().stateBytes();
        }
        return bytes;
    }

    @Override
    public void close() {
        for (Target t : targets) {
            t.update().close();
        }
        rest.close();
        state.close();
        linalg.close();
    }
}
