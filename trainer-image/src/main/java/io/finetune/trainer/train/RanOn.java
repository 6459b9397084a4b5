package io.finetune.trainer.train;

import ai.djl.Device;
import com.fasterxml.jackson.annotation.JsonInclude;
import io.finetune.api.v1alpha1.Precision;
import io.finetune.trainer.precision.ComputePrecision;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What a run computed on (training_summary.json's {@code execution}, the pod's status.execution): the precision that ran,
 * spec.training.precision resolved ({@code auto} never appears: bf16 on a CPU that has it is honoured, and a figure
 * measured in bf16 differs from one in fp32), and the device. Before this only the log said either.
 *
 * @param device   DJL's name for the device: {@code cpu()} or {@code gpu(N)}
 * @param cpuModel /proc/cpuinfo's first "model name"; null where there is none (not Linux, or an arm64 kernel without it)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record RanOn(Precision precision, String device, String cpuModel) {
    private static final Path CPUINFO = Path.of("/proc/cpuinfo");

    public static RanOn of(ComputePrecision precision, Device device) {
        return new RanOn(precision.spec(), device.toString(), cpuModel(CPUINFO));
    }

    /** The first {@code model name} line's value of a cpuinfo file; null when the file or the line is missing. */
    static String cpuModel(Path cpuinfo) {
        try {
            for (String line : Files.readAllLines(cpuinfo)) {
                int colon = line.indexOf(':');
                if (colon > 0 && line.substring(0, colon).strip().equals("model name")) {
                    String name = line.substring(colon + 1).strip();
                    return name.isEmpty() ? null : name;
                }
            }
        } catch (IOException | RuntimeException e) {
            return null;
        }
        return null;
    }
}
