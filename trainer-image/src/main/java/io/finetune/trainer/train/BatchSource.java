package io.finetune.trainer.train;

import io.finetune.trainer.model.ModelBatch;
import java.util.List;

/** Training micro-batches for an epoch, deterministic in (seed, epoch) so that a resumed run sees the same order. */
public interface BatchSource {
    int batchesPerEpoch();

    List<ModelBatch> epoch(long seed, int epoch);
}
