package io.finetune.trainer.train;

import java.util.List;

/** training_summary.json: what a user checks after a run (Jackson-serialised; dataStats is the data pipeline's DataStats). */
public record TrainingSummary(String method, int steps, double trainLoss, double evalLossBefore, double evalLossAfter,
                              long trainableParameters, long totalParameters, long optimizerStateBytes, double tokensPerSecond,
                              double durationSeconds, List<Double> lossCurve, Object dataStats) {
}
