package io.finetune.trainer.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.ndarray.NDManager;
import io.finetune.api.v1alpha1.MethodType;
import io.finetune.bench.PlanVsMeasured;
import io.finetune.bench.StepWorkingSet;
import io.finetune.trainer.model.LlamaModel;
import io.finetune.trainer.model.ModelPreset;
import io.finetune.trainer.precision.ComputePrecision;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The memory plan's activation estimate ({@code method.ActivationMemory}) is an upper bound within +25% of what one training
 * step really allocates, measured by {@link StepWorkingSet} as bench/run.sh's plan-vs-measured table does (which adds
 * stories15M): every method, fp32 and bf16, on the tiny shape at 8 x 256 tokens, and the d=512 shape at 2 x 256 for the
 * rows that were closest to either bound there. Before the per-tensor count the plan was 15% to 79% of the measured working
 * set (BENCHMARKS.md section 7 of that time): not an upper bound. Measured memory, not time: the figure moves by a few
 * percent between runs (the same row measured 409 and 442 MiB), which the 25% band has to absorb.
 *
 * <p>QLoRA is not measured here: in this shared test JVM, after the other rows, its step measured 145 MiB on tiny (plan
 * 145) and 188 MiB on d=512 (plan 132), where bench/run.sh's one JVM per row measures 132 and 106 MiB; until that is
 * explained the QLoRA plan is checked by the bench table only (BENCHMARKS.md section 7).
 *
 * <p>Why tiny at 8 x 256 and not smaller: at 4 x 128 or 2 x 128 many of tiny's tensors are under the measurement's mmap
 * threshold and are served from memory malloc already holds, so the measurement misses part of the step (Full at 2 x 128
 * measured 6 MiB with a 64 KiB threshold and 20 MiB with 4 KiB) and the plan/measured ratio is not the plan's error.
 */
class PlanHoldsTest {
    @ParameterizedTest(name = "{0} {1} {2} {3}x{4}")
    @CsvSource({"tiny, LoRA, FP32, 8, 256", "tiny, LoRA, BF16, 8, 256", "tiny, DoRA, FP32, 8, 256",
            "tiny, DoRA, BF16, 8, 256", "tiny, LoRAPlus, FP32, 8, 256", "tiny, LoRAPlus, BF16, 8, 256",
            "tiny, GaLore, FP32, 8, 256", "tiny, GaLore, BF16, 8, 256", "tiny, Full, FP32, 8, 256",
            "tiny, Full, BF16, 8, 256",
            "small, LoRA, BF16, 2, 256", "small, DoRA, BF16, 2, 256", "small, Full, FP32, 2, 256"})
    void thePlanIsAnUpperBoundWithinAQuarterOfTheMeasuredStep(String shape, MethodType method, ComputePrecision precision,
                                                              int batch, int seq) throws Exception {
        assumeTrue(StepWorkingSet.available(), "needs Linux with glibc and a writable /proc/self/clear_refs");
        ModelPreset preset = ModelPreset.valueOf(shape.toUpperCase(java.util.Locale.ROOT));
        try (LlamaModel model = LlamaModel.random(preset.config(), 42, NDManager.newBaseManager())) {
            PlanVsMeasured.Row row = PlanVsMeasured.measure(model, method, batch, seq, precision);
            String what = String.format("%s %s %s %dx%d: plan %,d B vs measured %,d B (ratio %.3f)", shape, method, precision,
                    batch, seq, row.planActivationBytes(), row.measuredBytes(), row.ratio());
            assertThat(row.measuredBytes()).as(what).isPositive();
            assertThat(row.ratio()).as(what).isBetween(1.0, 1.25);
        }
    }
}
