package io.finetune.trainer.train;

import io.finetune.trainer.data.DataStats;
import java.util.List;

/**
 * training_summary.json: what a user checks after a run, built once by {@link Trainer#run} (Jackson-serialised; dataStats is
 * the data pipeline's DataStats; memory is measured from the tensors the run held, see {@link MemoryAccounting}, and is
 * what the pod reports as status.memory). evalLossAfter is
 * the loss of the output's weights: those of bestStep when spec.evaluation.evalEverySteps chose an earlier step (bestStep
 * null without evalEverySteps); gate is spec.evaluation's verdict (null without thresholds); execution is the precision that
 * ran and the device ({@link RanOn}), so a figure in the summary says what it was measured on.
 */
public record TrainingSummary(String method, int steps, double trainLoss, double evalLossBefore, double evalLossAfter,
                              long trainableParameters, long totalParameters, long optimizerStateBytes, double tokensPerSecond,
                              double durationSeconds, List<Double> lossCurve, DataStats dataStats, MeasuredMemory memory,
                              Integer bestStep, EvaluationGate.Verdict gate, RanOn execution,
                              Distributed distributed) {
    /**
     * How the run was spread: the data-parallel world size, the mean wall time of an optimizer step in this process, and
     * the part of it spent in the gradient all-reduce (host copies included; 0 at world size 1, where nothing is reduced).
     */
    public record Distributed(int worldSize, double stepSeconds, double allReduceSecondsPerStep) {
    }
}
