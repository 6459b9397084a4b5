package io.finetune.trainer.train;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * Memory a run held, measured from its live tensors by {@link MemoryAccounting} (training_summary.json's {@code memory};
 * the pod reports the same figures as status.memory).
 *
 * @param peakRssBytes the process's peak resident set (VmHWM); null where there is no procfs
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record MeasuredMemory(long trainableParameters, long totalParameters, long optimizerStateBytes, long gradientBytes,
                             long weightBytes, Long peakRssBytes) {
}
