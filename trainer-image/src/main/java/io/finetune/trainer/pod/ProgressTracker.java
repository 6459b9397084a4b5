package io.finetune.trainer.pod;

import io.finetune.trainer.train.TrainingHooks;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.function.LongSupplier;

/**
 * Turns the raw facts of each optimizer step (loss, learning rate, tokens) into the progress users see: loss averaged
 * over a window of steps, throughput over the same window, fractional epoch and time left. Call {@link #onStep} on the
 * training thread after every optimizer step; it does arithmetic only and hands the result to a {@link ProgressSink}.
 */
public final class ProgressTracker {
    /** Steps averaged for loss and tokens/s: smooths per-batch noise yet follows a changing loss. */
    public static final int DEFAULT_WINDOW = 10;

    private record Sample(long atNanos, double loss, long tokens) {
    }

    private final ProgressSink sink;
    private final long totalSteps;
    private final double stepsPerEpoch;
    private final long startStep;
    private final int window;
    private final LongSupplier nanoTime;
    private final long startNanos;
    private final ArrayDeque<Sample> recent = new ArrayDeque<>();
    private TrainingProgress last;

    /**
     * @param totalSteps    optimizer steps planned for the whole run
     * @param stepsPerEpoch optimizer steps in one pass over the training set (after gradient accumulation)
     * @param startStep     steps already done when this process started (resumed from a checkpoint), else 0
     */
    public ProgressTracker(ProgressSink sink, long totalSteps, double stepsPerEpoch, long startStep) {
        this(sink, totalSteps, stepsPerEpoch, startStep, DEFAULT_WINDOW, System::nanoTime);
    }

    ProgressTracker(ProgressSink sink, long totalSteps, double stepsPerEpoch, long startStep, int window,
                    LongSupplier nanoTime) {
        if (totalSteps < 1 || stepsPerEpoch <= 0 || startStep < 0 || window < 1) {
            throw new IllegalArgumentException("need totalSteps >= 1, stepsPerEpoch > 0, startStep >= 0, window >= 1; got "
                    + totalSteps + ", " + stepsPerEpoch + ", " + startStep + ", " + window);
        }
        this.sink = sink;
        this.totalSteps = totalSteps;
        this.stepsPerEpoch = stepsPerEpoch;
        this.startStep = startStep;
        this.window = window;
        this.nanoTime = nanoTime;
        this.startNanos = nanoTime.getAsLong();
    }

    /**
     * Records one finished optimizer step and reports the progress.
     *
     * @param step         optimizer steps done, counting from the start of the run (1 after the first step)
     * @param loss         this step's training loss (mean over its micro-batches)
     * @param learningRate learning rate used for this step
     * @param tokens       tokens this step trained on (all micro-batches)
     */
    public TrainingProgress onStep(long step, double loss, double learningRate, long tokens) {
        long now = nanoTime.getAsLong();
        recent.addLast(new Sample(now, loss, tokens));
        // Keep window+1 samples: the oldest is only the time origin of the throughput window.
        while (recent.size() > window + 1) {
            recent.removeFirst();
        }
        long stepsHere = step - startStep;
        Duration elapsed = Duration.ofNanos(now - startNanos);
        last = new TrainingProgress(step, totalSteps, step / stepsPerEpoch, meanLoss(), learningRate,
                tokensPerSecond(now, elapsed), TrainingProgress.estimateEta(elapsed, stepsHere, totalSteps - step));
        sink.report(last.toProgress());
        return last;
    }

    /** The last progress reported, or null before the first step. */
    public TrainingProgress last() {
        return last;
    }

    private double meanLoss() {
        double sum = 0;
        int n = 0;
        int skip = recent.size() > window ? 1 : 0;   // the time-origin sample is outside the window
        for (Sample s : recent) {
            if (skip-- > 0) {
                continue;
            }
            sum += s.loss();
            n++;
        }
        return sum / n;
    }

    /** Tokens of the windowed steps over the time they took; for the first steps, since this process started. */
    private double tokensPerSecond(long now, Duration elapsed) {
        long tokens = 0;
        long from;
        if (recent.size() > window) {
            from = recent.peekFirst().atNanos();
            boolean first = true;
            for (Sample s : recent) {
                if (!first) {
                    tokens += s.tokens();
                }
                first = false;
            }
        } else {
            from = now - elapsed.toNanos();
            for (Sample s : recent) {
                tokens += s.tokens();
            }
        }
        double seconds = (now - from) / 1e9;
        return seconds <= 0 ? Double.NaN : tokens / seconds;
    }

    /**
     * The training loop's hooks that feed a tracker: the tracker is made when the loop starts (it knows then the planned
     * steps and where a resumed run starts), and every optimizer step goes through it to the sink.
     */
    public static TrainingHooks hooks(ProgressSink sink) {
        return new TrainingHooks() {
            private ProgressTracker tracker;

            @Override
            public void started(int startStep, int totalSteps, double stepsPerEpoch) {
                tracker = new ProgressTracker(sink, totalSteps, stepsPerEpoch, startStep);
            }

            @Override
            public void stepDone(int done, double loss, double learningRate, long tokens) {
                if (tracker != null) {
                    tracker.onStep(done, loss, learningRate, tokens);
                }
            }
        };
    }
}
