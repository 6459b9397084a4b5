package io.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/**
 * What a run computed on, as the trainer resolved it: spec.training.precision's {@code auto} becomes the precision that
 * ran (bf16 on a CPU with bf16 is honoured, and a figure measured in bf16 is not comparable with one in fp32), and the
 * device is DJL's name for it. Without this only the pod log said which precision and device a run used.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class Execution {
    /** Longest device or CPU name the trainer reports and the operator records; longer names are cut. */
    public static final int MAX_NAME = 128;

    @JsonPropertyDescription("Precision the run computed in, spec.training.precision resolved against the device: fp32, bf16 or fp16 (never auto).")
    public Precision precision;

    @JsonPropertyDescription("Device the run computed on, as DJL names it: cpu() or gpu(N).")
    public String device;

    @JsonPropertyDescription("CPU model name of the trainer's node (/proc/cpuinfo 'model name'), where there is one.")
    public String cpuModel;

    /** A copy whose names are at most {@link #MAX_NAME} characters and one line; null for null. */
    public static Execution bounded(Execution e) {
        if (e == null) {
            return null;
        }
        Execution out = new Execution();
        out.precision = e.precision == Precision.AUTO ? null : e.precision;
        out.device = bound(e.device);
        out.cpuModel = bound(e.cpuModel);
        return out;
    }

    private static String bound(String s) {
        if (s == null) {
            return null;
        }
        String one = s.replace('\r', ' ').replace('\n', ' ').strip();
        return one.length() <= MAX_NAME ? one : one.substring(0, MAX_NAME);
    }
}
