package io.finetune.trainer.data;

import java.util.List;

/** Training micro-batches for an epoch, deterministic in (seed, epoch) so that a resumed run sees the same order. */
public interface BatchSource {
    int batchesPerEpoch();

    List<Batch> epoch(long seed, int epoch);
}
