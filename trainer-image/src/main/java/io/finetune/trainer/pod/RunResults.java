package io.finetune.trainer.pod;

import io.finetune.api.Serving;
import io.finetune.api.TrainerResult;
import io.finetune.api.v1alpha1.Artifact;
import io.finetune.api.v1alpha1.Execution;
import io.finetune.api.v1alpha1.MemoryUsage;
import io.finetune.api.v1alpha1.Metrics;
import io.finetune.trainer.layout.RunLayout;
import io.finetune.trainer.run.TrainingRun;
import io.finetune.trainer.train.MeasuredMemory;
import io.finetune.trainer.train.RanOn;
import io.finetune.trainer.train.TrainingSummary;

/** A finished run as the operator records it: the contract side of {@link TrainingRun.Result}. */
public final class RunResults {
    private RunResults() {
    }

    /**
     * status.memory is the summary's measured figures (the same numbers as training_summary.json), status.execution its
     * precision and device, status.artifact the
     * published artifact with what the method wrote (format, servers). A missed evaluation gate is reported as such, naming
     * where the rejected output is kept.
     */
    public static TrainerResult toTrainerResult(TrainingRun.Result result) {
        TrainingSummary s = result.summary();
        if (s.gate() != null && !s.gate().passed()) {
            String rejected = RunLayout.rejectedUnder(result.artifact().uri());
            return TrainerResult.gateFailed(s.gate().message() + "; the output is not published as servable: it is kept"
                    + " for inspection under " + rejected, metrics(s), statusMemory(s.memory()), s.steps())
                .withExecution(execution(s));
        }
        Artifact a = new Artifact();
        a.uri = result.artifact().uri();
        a.digest = result.artifact().digest();
        a.sizeBytes = result.artifact().sizeBytes();
        a.format = result.output().format().wireName();
        Serving.Verdict serving = result.output().serving();
        a.servableBy = serving.servableBy();
        a.servingNote = serving.vllmProblem() == null ? serving.note()
                : serving.vllmProblem() + (serving.note() == null ? "" : "; " + serving.note());
        return TrainerResult.succeeded(a, metrics(s), statusMemory(s.memory()), s.steps())
                .withExecution(execution(s));
    }

    /**
     * A rank other than 0 finished its share: it publishes nothing (rank 0's result carries the artifact), so its result
     * says so and carries its own step count and memory.
     */
    public static TrainerResult peerRank(TrainingRun.Result result) {
        TrainingSummary s = result.summary();
        return TrainerResult.succeeded(null, metrics(s), statusMemory(s.memory()), s.steps())
                .withExecution(execution(s));
    }

    /** status.execution: the precision that ran and the device, as the summary records them. */
    private static Execution execution(TrainingSummary s) {
        return s.execution() == null ? null : execution(s.execution());
    }

    /** status.execution: what the summary says ran, names bounded. */
    static Execution execution(RanOn ran) {
        Execution e = new Execution();
        e.precision = ran.precision();
        e.device = ran.device();
        e.cpuModel = ran.cpuModel();
        return Execution.bounded(e);
    }

    private static MemoryUsage statusMemory(MeasuredMemory measured) {
        MemoryUsage m = new MemoryUsage();
        m.trainableParameters = measured.trainableParameters();
        m.totalParameters = measured.totalParameters();
        m.optimizerStateBytes = measured.optimizerStateBytes();
        m.gradientBytes = measured.gradientBytes();
        m.weightBytes = measured.weightBytes();
        m.peakRssBytes = measured.peakRssBytes();
        return m;
    }

    private static Metrics metrics(TrainingSummary s) {
        Metrics m = new Metrics();
        m.trainLoss = s.trainLoss();
        m.evalLossBefore = s.evalLossBefore();
        m.evalLossAfter = s.evalLossAfter();
        m.bestStep = s.bestStep();
        return m;
    }
}
