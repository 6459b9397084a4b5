package io.finetune.trainer.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import io.finetune.api.v1alpha1.EvaluationSpec;
import io.finetune.api.v1alpha1.TrainingSpec;
import io.finetune.trainer.data.Batch;
import io.finetune.trainer.io.FloatTensor;
import io.finetune.trainer.layout.RunLayout;
import io.finetune.trainer.linalg.OwnedArrays;
import io.finetune.trainer.method.TrainingMethod;
import io.finetune.trainer.model.CausalLmLoss;
import io.finetune.trainer.model.ForwardContext;
import io.finetune.trainer.model.LlamaModel;
import io.finetune.trainer.model.Parameter;
import io.finetune.trainer.optim.LrSchedule;
import io.finetune.trainer.optim.Optimizer;
import io.finetune.trainer.precision.LossScaler;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
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
    private final TrainingSpec spec;
    private final BatchSource data;
    private final List<Batch> eval;
    private final Path output;
    private final PrintStream log;
    private final List<Parameter> trainable;
    private final Optimizer optimizer;
    /** fp16 only (model precision FP16): dynamic loss scaling; null otherwise. */
    private final LossScaler scaler;
    /** Test hook: stop (as if killed) right after this many steps; null = run to the end. */
    private Integer haltAfterStep;
    private TrainingHooks hooks = TrainingHooks.NONE;
    /** spec.evaluation.evalEverySteps; 0 = evaluate only after the last step. */
    private int evalEvery;
    private StopRequest stop = StopRequest.process();
    private EvaluationSpec evaluation;
    private Object dataStats;

    /** The method must already be attached to the model. */
    public Trainer(LlamaModel model, TrainingMethod method, TrainingSpec spec, BatchSource data, List<Batch> eval,
                   Path output, PrintStream log) {
        this.model = model;
        this.method = method;
        this.spec = spec;
        this.data = data;
        this.eval = eval;
        this.output = output;
        this.log = log;
        this.trainable = method.trainableParameters(model);
        this.optimizer = method.createOptimizer(method.parameterGroups(model, spec), spec, model.manager());
        this.scaler = model.precision().needsLossScaling() ? new LossScaler() : null;
    }

    public void hooks(TrainingHooks hooks) {
        this.hooks = hooks;
    }

    /**
     * spec.evaluation: {@code evalEverySteps} (see {@link #evalEvery}) and the thresholds whose verdict the summary carries
     * ({@link EvaluationGate}); null: evaluate only after the last step, no gate.
     */
    public void evaluation(EvaluationSpec evaluation) {
        this.evaluation = evaluation;
        if (evaluation != null && evaluation.evalEverySteps != null) {
            evalEvery(evaluation.evalEverySteps);
        }
    }

    /** What the data pipeline did (the data's DataStats), reported in the summary as it is. */
    public void dataStats(Object stats) {
        this.dataStats = stats;
    }

    /** Evaluate every {@code steps} optimizer steps and end with the weights of the lowest eval loss (0: off). */
    public void evalEvery(int steps) {
        this.evalEvery = Math.max(0, steps);
    }

    /** The flag read between steps (default: the one SIGTERM sets in this JVM). */
    public void stopOn(StopRequest stop) {
        this.stop = stop;
    }

    void haltAfter(int step) {
        this.haltAfterStep = step;
    }

    public int totalSteps() {
        if (spec.maxSteps != null) {
            return spec.maxSteps;
        }
        int perEpoch = (data.batchesPerEpoch() + spec.gradientAccumulationSteps - 1) / spec.gradientAccumulationSteps;
        return Math.max(1, perEpoch * spec.epochs);
    }

    /** Trains (resuming from the latest checkpoint under output/checkpoints) and returns the summary; null if halted. */
    public TrainingSummary run() throws IOException {
        long started = System.nanoTime();
        int total = totalSteps();
        int accum = spec.gradientAccumulationSteps;
        long seed = spec.seed;
        LrSchedule schedule = new LrSchedule(spec.learningRate, spec.warmupSteps, total, spec.scheduler);
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
            evalBefore = evalLoss(model, eval);
            log.printf("eval loss before training: %.4f%n", evalBefore);
        }
        BestWeights best = evalEvery > 0 ? BestWeights.open(output) : null;
        hooks.started(startStep, total, data.batchesPerEpoch() / (double) accum);
        if (stop.isRequested() && startStep < total) {
            throw new TrainingStoppedException(startStep, total, null, stop.reason());
        }
        long loopStart = System.nanoTime();
        long loopTokens = 0;
        int every = Math.max(1, spec.logEverySteps);
        List<Batch> epochBatches = null;
        int cachedEpoch = -1;
        for (int step = startStep; step < total; step++) {
            List<Batch> micro = new ArrayList<>(accum);
            for (int j = 0; j < accum; j++) {
                long k = (long) step * accum + j;
                int epoch = (int) (k / data.batchesPerEpoch());
                if (epoch != cachedEpoch) {
                    epochBatches = data.epoch(seed, epoch);
                    cachedEpoch = epoch;
                }
                micro.add(epochBatches.get((int) (k % data.batchesPerEpoch())));
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
            if (done % every == 0 || done == total) {
                double secs = (System.nanoTime() - loopStart) / 1e9;
                double tps = loopTokens / Math.max(secs, 1e-9);
                double eta = secs / (done - startStep) * (total - done);
                log.printf("step %d/%d  loss %.4f  lr %.3e  tok/s %.0f  ETA %s%n", done, total, loss, lr, tps, eta(eta));
            }
            if (best != null && done % evalEvery == 0 && done < total) {
                double l = evalLoss(model, eval);
                log.printf("step %d/%d  eval loss %.4f%s%n", done, total, l, best.offer(done, l, trainable) ? " (best so far)" : "");
            }
            boolean halt = haltAfterStep != null && done == haltAfterStep;
            // Read once per step: a SIGTERM that lands after this line is honoured after the next step.
            boolean stopping = stop.isRequested() && done < total;
            Path saved = null;
            if (done < total && (stopping || spec.checkpointEverySteps > 0 && (done % spec.checkpointEverySteps == 0 || halt))) {
                saved = saveCheckpoint(new Checkpoints.State(done, seed, losses, evalBefore));
                hooks.checkpointSaved(saved);
            }
            if (halt) {
                return null;
            }
            if (stopping) {
                TrainingStoppedException stopped = new TrainingStoppedException(done, total, saved, stop.reason());
                log.println(stopped.getMessage());
                throw stopped;
            }
        }
        double loopSecs = (System.nanoTime() - loopStart) / 1e9;
        double evalAfter = evalLoss(model, eval);
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
                loopTokens / Math.max(loopSecs, 1e-9), (System.nanoTime() - started) / 1e9, losses, dataStats,
                MemoryAccounting.measure(model, trainable, optimizer), bestStep,
                EvaluationGate.check(evaluation, evalBefore, evalAfter));
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
                for (Batch b : micro) {
                    ForwardContext ctx = new ForwardContext(true, dropoutSeed * 64 + j++);
                    NDArray loss = OwnedArrays.dividedBy(CausalLmLoss.sum(sub, model, b, ctx), Math.max(1, tokens));
                    gc.backward(scaler == null ? loss : OwnedArrays.times(loss, scaler.scale()));
                    lossValue += loss.getFloat();
                }
            }
            List<NDArray> grads = new ArrayList<>(trainable.size());
            for (Parameter p : trainable) {
                NDArray g = p.array().getGradient();
                g.attach(sub);
                grads.add(g);
            }
            if (scaler == null) {
                clip(grads, spec.maxGradNorm);
                optimizer.step(sub, lr);
            } else {
                NDArray unscale = OwnedArrays.scalar(sub, 1.0 / scaler.scale());
                for (NDArray g : grads) {
                    g.muli(unscale);
                }
                if (scaler.update(clip(grads, spec.maxGradNorm))) {
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
        // sum(g^2) read per gradient and added in double: an on-device stacked sum or g.norm() rounds differently from run
        // to run (GaloreMethodTest: a resumed run must clip exactly as the uninterrupted one did). ~1 ms per step on tiny.
        double sq = 0;
        for (NDArray g : grads) {
            sq += g.square().sum().getFloat();
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

    /** Mean next-token loss over all loss tokens of the batches (no dropout, no gradients). */
    public static double evalLoss(LlamaModel model, List<Batch> batches) {
        double sum = 0;
        long tokens = 0;
        for (Batch b : batches) {
            try (NDManager sub = model.manager().newSubManager()) {
                model.attachTo(sub);
                sum += CausalLmLoss.sum(sub, model, b, ForwardContext.EVAL).getFloat();
                tokens += b.lossTokens();
            }
        }
        return tokens == 0 ? Double.NaN : sum / tokens;
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
            p.array().set(t.data());
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
