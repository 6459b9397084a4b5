package io.finetune.trainer.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import io.finetune.trainer.data.Batch;
import io.finetune.trainer.data.BatchSource;
import io.finetune.trainer.distributed.ProcessGroup;
import io.finetune.trainer.distributed.SingleProcessGroup;
import io.finetune.trainer.safetensors.FloatTensor;
import io.finetune.trainer.layout.RunLayout;
import io.finetune.trainer.arrays.OwnedArrays;
import io.finetune.trainer.method.TrainingMethod;
import io.finetune.trainer.model.CausalLmLoss;
import io.finetune.trainer.model.LayerwiseRecompute;
import io.finetune.trainer.model.ForwardContext;
import io.finetune.trainer.model.LlamaModel;
import io.finetune.trainer.model.Parameter;
import io.finetune.trainer.optim.LrSchedule;
import io.finetune.trainer.optim.Optimizer;
import io.finetune.trainer.precision.LossScaler;
import io.finetune.trainer.spec.EvaluationSettings;
import io.finetune.trainer.spec.TrainingSettings;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.function.IntPredicate;
import java.util.function.UnaryOperator;
import java.util.Map;
import java.util.Optional;

/**
 * The training loop (nanoGPT-style, top to bottom): warmup + schedule, gradient accumulation over micro-batches (loss
 * normalised by the step's token count), global-norm clipping, optimizer step, zeroed gradients, periodic checkpoints.
 * Every step runs in its own sub-manager so native memory stays flat.
 */
public final class Trainer {
    private final LlamaModel model;
    private final TrainingMethod method;
    private final TrainingSettings spec;
    private final EvaluationSettings evaluation;
    private final TrainingData data;
    private final Path output;
    private final PrintStream log;
    private final TrainingHooks hooks;
    /** The flag read between steps (SIGTERM's in a real run). */
    private final StopRequest stop;
    private final List<Parameter> trainable;
    private final Optimizer optimizer;
    /** fp16 only (model precision FP16): dynamic loss scaling; null otherwise. */
    private final LossScaler scaler;
    /** This rank's share of the global batch and the collectives (identity at world size 1). */
    private final DataParallel ranks;

    /**
     * A trainer for a model the method is already attached to.
     *
     * @param evaluation {@code evalEverySteps} (evaluate every N steps and end with the weights of the lowest eval loss;
     *                   0: evaluate only after the last step) and the gate's thresholds ({@link EvaluationGate})
     * @param output     where checkpoints go ({@code checkpoints/step-N}) and are resumed from
     * @param hooks      told of the start, each step and each checkpoint
     * @param stop       read once per step: when set on any rank, the step reached is checkpointed (by rank 0) and
     *                   {@link TrainingStoppedException} thrown on every rank
     * @param group      the data-parallel ranks: {@code data.train()} yields GLOBAL batches (batchSize x world rows), each
     *                   rank trains its rows of each and the gradients are summed over ranks (see {@link DataParallel})
     */
    public Trainer(LlamaModel model, TrainingMethod method, TrainingSettings training, EvaluationSettings evaluation,
                   TrainingData data, Path output, PrintStream log, TrainingHooks hooks, StopRequest stop,
                   ProcessGroup group) {
        this.model = model;
        this.method = method;
        this.spec = training;
        this.evaluation = evaluation;
        this.data = data;
        this.output = output;
        this.log = log;
        this.hooks = hooks;
        this.stop = stop;
        this.trainable = method.trainableParameters(model);
        this.optimizer = method.createOptimizer(method.parameterGroups(model, training), training, model.manager());
        this.scaler = model.precision().needsLossScaling() ? new LossScaler() : null;
        this.ranks = new DataParallel(group);
    }

    /** A single-process trainer (world size 1). */
    public Trainer(LlamaModel model, TrainingMethod method, TrainingSettings training, EvaluationSettings evaluation,
                   TrainingData data, Path output, PrintStream log, TrainingHooks hooks, StopRequest stop) {
        this(model, method, training, evaluation, data, output, log, hooks, stop, new SingleProcessGroup());
    }

    /** A single-process trainer without evaluation settings or hooks, stopped by SIGTERM (benchmarks and tests). */
    public Trainer(LlamaModel model, TrainingMethod method, TrainingSettings training, TrainingData data, Path output,
                   PrintStream log) {
        this(model, method, training, EvaluationSettings.NONE, data, output, log, TrainingHooks.NONE, StopRequest.process());
    }

    public int totalSteps() {
        return spec.totalSteps(data.train().batchesPerEpoch());
    }

    /**
     * Trains (resuming from the latest checkpoint under output/checkpoints) and returns the summary.
     *
     * @throws TrainingStoppedException when the stop request was set: the step reached is checkpointed first
     */
    public TrainingSummary run() throws IOException {
        long started = System.nanoTime();
        int total = totalSteps();
        int accum = spec.gradientAccumulationSteps();
        long seed = spec.seed();
        int evalEvery = evaluation.evalEverySteps();
        BatchSource batches = data.train();
        List<Batch> eval = data.eval();
        LrSchedule schedule = new LrSchedule(spec.learningRate(), spec.warmupSteps(), total, spec.scheduler());
        List<Double> losses = new ArrayList<>();
        int startStep = 0;
        double evalBefore;
        Optional<Path> ckpt = Checkpoints.latest(output);
        if (ckpt.isPresent()) {
            Checkpoints.State st = Checkpoints.readState(ckpt.get());
            restore(ckpt.get());
            startStep = st.step();
            losses.addAll(st.losses());
            evalBefore = st.evalLossBefore();
            log.printf("resuming from %s (step %d/%d)%n", ckpt.get(), startStep, total);
        } else {
            evalBefore = evalLossOfRanks(eval);
            log.printf("eval loss before training: %.4f%n", evalBefore);
        }
        ranks.broadcastFromRankZero(trainable); // every rank starts from rank 0's weights, as DDP does
        BestWeights best = evalEvery > 0 && ranks.isRankZero() ? BestWeights.open(output) : null;
        hooks.started(startStep, total, batches.batchesPerEpoch() / (double) accum);
        if (ranks.anyRequested(stop.isRequested()) && startStep < total) {
            throw new TrainingStoppedException(startStep, total, null, reason());
        }
        long loopStart = System.nanoTime();
        long loopTokens = 0;
        int every = Math.max(1, spec.logEverySteps());
        List<Batch> epochBatches = null;
        int cachedEpoch = -1;
        for (int step = startStep; step < total; step++) {
            List<Batch> micro = new ArrayList<>(accum);
            for (int j = 0; j < accum; j++) {
                long k = (long) step * accum + j;
                int epoch = (int) (k / batches.batchesPerEpoch());
                if (epoch != cachedEpoch) {
                    epochBatches = batches.epoch(seed, epoch);
                    cachedEpoch = epoch;
                }
                micro.add(epochBatches.get((int) (k % batches.batchesPerEpoch())));
            }
            double lr = schedule.at(step);
            double loss = step(micro, lr, seed * 1_000_003L + step);
            if (!Double.isFinite(loss)) {
                // A diverged (or corrupted) run must fail, never publish weights trained on NaN gradients.
                throw new TrainingDivergedException("training diverged: loss is " + loss + " at step " + (step + 1)
                        + "/" + total + " (lower spec.training.learningRate or set spec.training.maxGradNorm)");
            }
            losses.add(loss);
            long stepTokens = 0;
            for (Batch b : micro) {
                stepTokens += b.realTokens();
            }
            loopTokens += stepTokens;
            int done = step + 1;
            hooks.stepDone(done, loss, lr, stepTokens);
            if (ranks.isRankZero() && (done % every == 0 || done == total)) {
                double secs = (System.nanoTime() - loopStart) / 1e9;
                double tps = loopTokens / Math.max(secs, 1e-9);
                double eta = secs / (done - startStep) * (total - done);
                log.printf("step %d/%d  loss %.4f  lr %.3e  tok/s %.0f  ETA %s%n", done, total, loss, lr, tps, eta(eta));
            }
            if (evalEvery > 0 && done % evalEvery == 0 && done < total) {
                double l = evalLossOfRanks(eval);   // every rank takes part; rank 0 keeps the best weights
                if (best != null) {
                    log.printf("step %d/%d  eval loss %.4f%s%n", done, total, l,
                            best.offer(done, l, trainable) ? " (best so far)" : "");
                }
            }
            // Read once per step (and agreed by all ranks): a SIGTERM that lands after this line is honoured after the next step.
            boolean stopping = ranks.anyRequested(stop.isRequested()) && done < total;
            Path saved = null;
            int ckptEvery = spec.checkpointEverySteps();
            if (done < total && (stopping || ckptEvery > 0 && done % ckptEvery == 0)) {
                if (ranks.isRankZero()) {
                    saved = saveCheckpoint(new Checkpoints.State(done, seed, losses, evalBefore));
                    hooks.checkpointSaved(saved);
                }
            }
            if (stopping) {
                TrainingStoppedException stopped = ranks.isRankZero()
                        ? new TrainingStoppedException(done, total, saved, reason())
                        : TrainingStoppedException.onPeerRank(done, total, ranks.rank(), reason());
                log.println(stopped.getMessage());
                throw stopped;
            }
        }
        double loopSecs = (System.nanoTime() - loopStart) / 1e9;
        double evalAfter = evalLossOfRanks(eval);
        Integer bestStep = null;
        if (best != null) {
            bestStep = total;
            if (best.best() != null && best.best().loss() < evalAfter) {
                best.restoreInto(trainable);
                log.printf("step %d has the lowest eval loss (%.4f < %.4f at step %d): its weights are the output%n",
                        best.best().step(), best.best().loss(), evalAfter, total);
                evalAfter = best.best().loss();
                bestStep = best.best().step();
            }
            best.delete();
        }
        log.printf("eval loss: %.4f -> %.4f%n", evalBefore, evalAfter);
        long trainableCount = trainable.stream().mapToLong(Parameter::numel).sum();
        return new TrainingSummary(method.type().name(), total, losses.isEmpty() ? Double.NaN : losses.get(losses.size() - 1),
                evalBefore, evalAfter, trainableCount, model.totalParameters(), optimizer.stateBytes(),
                loopTokens / Math.max(loopSecs, 1e-9), (System.nanoTime() - started) / 1e9, losses, data.stats(),
                MemoryAccounting.measure(model, trainable, optimizer), bestStep,
                EvaluationGate.check(evaluation, evalBefore, evalAfter), RanOn.of(model.precision(), model.manager().getDevice()),
                ranks.report(loopSecs, total - startStep));
    }

    /** One optimizer step over the micro-batches; returns the mean loss per loss token. */
    public double step(List<Batch> micro, double lr, long dropoutSeed) {
        int tokens = 0;
        for (Batch b : micro) {
            tokens += b.lossTokens();
        }
        double lossValue = 0;
        try (NDManager sub = model.manager().newSubManager()) {
            model.attachTo(sub);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                int j = 0;
                for (Batch global : micro) {
                    // rank r > 0 draws its own dropout masks; rank 0's seeds are a single process's
                    ForwardContext ctx = new ForwardContext(true, dropoutSeed * 64 + j++ + ranks.rank() * 1_000_003L);
                    Batch b = ranks.shard(global);
                    // a rank with no rows of this batch still needs gradients to reduce: one row's loss times zero
                    Batch rows = b != null ? b : global.rows(0, 1);
                    int stepTokens = Math.max(1, tokens);
                    UnaryOperator<NDArray> lossOf = b != null
                            ? sum -> OwnedArrays.dividedBy(sum, stepTokens) : sum -> OwnedArrays.times(sum, 0);
                    UnaryOperator<NDArray> backwardOf = l -> scaler == null ? l : OwnedArrays.times(l, scaler.scale());
                    NDArray loss;
                    if (model.quantized()) { // 4-bit base: each layer recomputed in the backward, one at a time
                        loss = LayerwiseRecompute.lossAndBackward(sub, model, rows, ctx, lossOf, backwardOf);
                    } else {
                        loss = lossOf.apply(CausalLmLoss.sum(sub, model, rows, ctx));
                        gc.backward(backwardOf.apply(loss));
                    }
                    lossValue += loss.getFloat();
                }
            }
            List<NDArray> grads = new ArrayList<>(trainable.size());
            for (Parameter p : trainable) {
                NDArray g = p.array().getGradient();
                g.attach(sub);
                grads.add(g);
            }
            lossValue = ranks.reduceGradients(grads, lossValue);   // before clipping: the global gradient
            if (scaler == null) {
                clip(grads, spec.maxGradNorm());
                optimizer.step(sub, lr);
            } else {
                NDArray unscale = OwnedArrays.scalar(sub, 1.0 / scaler.scale());
                for (NDArray g : grads) {
                    g.muli(unscale);
                }
                if (scaler.update(clip(grads, spec.maxGradNorm()))) {
                    optimizer.step(sub, lr);
                } else {
                    log.printf("fp16: gradients overflowed, step skipped, loss scale now %.0f%n", scaler.scale());
                }
            }
            for (Parameter p : trainable) {
                // gradients accumulate across backward calls until zeroed (platform.md); grad.zero_() in place
                JniUtils.zeroGrad((PtNDArray) p.array());
            }
        }
        return lossValue;
    }

    /**
     * Global L2 norm clipping as torch.nn.utils.clip_grad_norm_: norm = sqrt(sum of all g^2), then g *= max / (norm + 1e-6)
     * when norm > max. The coefficient is a libtorch-owned scalar.
     */
    static double clip(List<NDArray> grads, double maxNorm) {
        // sum(g^2) per gradient (a libtorch float reduction), the gradients' sums added in double in parameter order: the
        // norm does not depend on how an on-device stacked sum would group the gradients. Each per-gradient sum is still
        // libtorch's, so the norm is as repeatable as the gradients themselves, not more: a resumed run clips like the
        // uninterrupted one within float rounding (docs/preemption.md). ~1 ms per step on tiny.
        // Each squared copy is freed as soon as it is summed: left to the step's sub-manager, every gradient's g^2 (a copy
        // of all trainable gradients, ~27 GB for Full on 7B) would live until the step ends.
        double sq = 0;
        for (NDArray g : grads) {
            try (NDArray squared = g.square(); NDArray sum = squared.sum()) {
                sq += sum.getFloat();
            }
        }
        double norm = Math.sqrt(sq);
        if (maxNorm > 0 && norm > maxNorm) {
            NDArray coef = OwnedArrays.scalar(grads.get(0).getManager(), maxNorm / (norm + 1e-6));
            for (NDArray g : grads) {
                g.muli(coef);
            }
        }
        return norm;
    }

    /** The eval loss over every rank's share of the held-out batches (all ranks take part and get the same value). */
    private double evalLossOfRanks(List<Batch> batches) {
        return ranks.evalLoss(evalSums(model, batches, ranks::evaluates));
    }

    private String reason() {
        return stop.reason() != null ? stop.reason() : "a stop request on another rank";
    }

    /** Mean next-token loss over all loss tokens of the batches (no dropout, no gradients). */
    public static double evalLoss(LlamaModel model, List<Batch> batches) {
        DataParallel.EvalSums sums = evalSums(model, batches, i -> true);
        return sums.tokens() == 0 ? Double.NaN : sums.sum() / sums.tokens();
    }

    /** The summed eval loss and loss tokens of the batches {@code mine} selects by index (no dropout, no gradients). */
    private static DataParallel.EvalSums evalSums(LlamaModel model, List<Batch> batches, IntPredicate mine) {
        double sum = 0;
        long tokens = 0;
        for (int i = 0; i < batches.size(); i++) {
            if (mine.test(i)) {
                Batch b = batches.get(i);
                try (NDManager sub = model.manager().newSubManager()) {
                    model.attachTo(sub);
                    sum += CausalLmLoss.sum(sub, model, b, ForwardContext.EVAL).getFloat();
                    tokens += b.lossTokens();
                }
            }
        }
        return new DataParallel.EvalSums(sum, tokens);
    }

    private Path saveCheckpoint(Checkpoints.State state) throws IOException {
        Map<String, FloatTensor> weights = new LinkedHashMap<>();
        for (Parameter p : trainable) {
            weights.put(p.name(), FloatTensor.of(p.array()));
        }
        return Checkpoints.save(output, state, weights, optimizer.state());
    }

    private void restore(Path ckpt) throws IOException {
        Map<String, FloatTensor> weights = Checkpoints.readTensors(RunLayout.trainableIn(ckpt));
        for (Parameter p : trainable) {
            FloatTensor t = weights.get(p.name());
            if (t == null) {
                throw new IOException(ckpt + ": checkpoint has no tensor '" + p.name()
                        + "' (was it written by a different method or targetModules?)");
            }
            OwnedArrays.copyInto(p.array(), t.data());
        }
        optimizer.loadState(Checkpoints.readTensors(RunLayout.optimizerIn(ckpt)));
    }

    /** The fp16 loss scaler, or null when the model does not compute in fp16. */
    public LossScaler lossScaler() {
        return scaler;
    }

    public Optimizer optimizer() {
        return optimizer;
    }

    private static String eta(double seconds) {
        long s = Math.round(seconds);
        return String.format("%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60);
    }
}
