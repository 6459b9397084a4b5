package io.finetune.trainer.data;

import java.util.List;

/** The tokenized train and held-out splits plus what happened while loading them. */
public record LoadedDataset(List<Example> train, List<Example> eval, DataStats stats) {
    public LoadedDataset {
        train = List.copyOf(train);
        eval = List.copyOf(eval);
    }
}
