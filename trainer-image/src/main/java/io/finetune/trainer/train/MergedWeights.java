package io.finetune.trainer.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.finetune.trainer.io.FloatTensor;
import io.finetune.trainer.model.Linear;
import io.finetune.trainer.model.LlamaModel;
import java.util.Map;

/** The base weights with every adapter folded in (W' from LinearAdapter.mergedWeight), for output.merge. */
public final class MergedWeights {
    private MergedWeights() {
    }

    public static Map<String, FloatTensor> of(LlamaModel model) {
        Map<String, FloatTensor> weights = model.stateDict();
        for (Linear lin : model.linears()) {
            if (lin.adapter() != null) {
                try (NDManager sub = model.manager().newSubManager()) {
                    model.attachTo(sub);
                    NDArray w = lin.adapter().mergedWeight(lin);
                    weights.put(lin.weight().name(), LlamaModel.toHost(w));
                }
            }
        }
        return weights;
    }
}
