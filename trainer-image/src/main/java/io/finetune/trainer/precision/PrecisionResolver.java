package io.finetune.trainer.precision;

import ai.djl.Device;
import ai.djl.util.cuda.CudaUtils;
import io.finetune.api.v1alpha1.Precision;

/**
 * {@code spec.training.precision} against the device the run uses.
 *
 * <ul>
 *   <li>auto: bf16 on a CUDA device with bf16 support (compute capability 8.0+: Ampere and newer), fp32 on the CPU and on
 *   older GPUs (no silent switch to fp16, which needs loss scaling).</li>
 *   <li>bf16: honoured everywhere, the CPU included (libtorch runs bf16 matmuls on the CPU through oneDNN; fast with
 *   AVX512-BF16/AMX, slower without). Refused on a GPU without bf16 support.</li>
 *   <li>fp16: CUDA only. On the CPU it is an error: libtorch's CPU fp16 matmul runs at ~1 GFLOP/s (platform.md), far below
 *   fp32, so it is never what a user wants; the message says to use bf16 or fp32.</li>
 *   <li>fp32: honoured everywhere.</li>
 * </ul>
 */
public final class PrecisionResolver {
    private PrecisionResolver() {
    }

    /** What the precision depends on: a CUDA device or not, and whether it computes in bf16. */
    public record DeviceCapabilities(boolean cuda, boolean bf16, String description) {
        public static final DeviceCapabilities CPU = new DeviceCapabilities(false, true, "the CPU");

        /** Reads a DJL device: for a GPU, its compute capability from the CUDA runtime. */
        public static DeviceCapabilities of(Device device) {
            if (!device.isGpu()) {
                return CPU;
            }
            String cc = CudaUtils.getComputeCapability(device.getDeviceId()); // e.g. "90"
            int major = Integer.parseInt(cc.substring(0, cc.length() - 1));
            return new DeviceCapabilities(true, major >= 8, "GPU " + device.getDeviceId() + " (compute capability "
                    + major + "." + cc.charAt(cc.length() - 1) + ")");
        }
    }

    public static ComputePrecision resolve(Precision requested, DeviceCapabilities device) {
        Precision p = requested == null ? Precision.AUTO : requested;
        return switch (p) {
            case AUTO -> device.cuda() && device.bf16() ? ComputePrecision.BF16 : ComputePrecision.FP32;
            case FP32 -> ComputePrecision.FP32;
            case BF16 -> {
                if (!device.bf16()) {
                    throw new IllegalArgumentException("spec.training.precision: bf16 is not supported on " + device.description()
                            + " (bf16 needs compute capability 8.0 or newer); use fp16, fp32 or auto");
                }
                yield ComputePrecision.BF16;
            }
            case FP16 -> {
                if (!device.cuda()) {
                    throw new IllegalArgumentException("spec.training.precision: fp16 needs a CUDA GPU; on the CPU fp16 "
                            + "matmuls run far slower than fp32: use bf16 or fp32 (or auto) on the CPU");
                }
                yield ComputePrecision.FP16;
            }
        };
    }
}
