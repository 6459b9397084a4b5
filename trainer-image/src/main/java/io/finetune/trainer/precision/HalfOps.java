package io.finetune.trainer.precision;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;
import io.finetune.trainer.linalg.TorchScriptArchive;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.EnumMap;
import java.util.Map;

/**
 * The 16-bit casts and matmuls, run as TorchScript modules written from Java ({@link TorchScriptArchive}).
 *
 * <p>Why not DJL: DJL 0.36's JNI maps only fp32/fp64/fp16/uint8/int32/int8/int64/bool/complex64 to a torch dtype
 * ({@code djl_pytorch_utils.h} GetScalarTypeFromDType); any other dtype code reaches a bare {@code throw;} and libtorch
 * aborts the JVM. So {@code toType(BFLOAT16)} and {@code softmax} of a bf16 array kill the process, and {@code toType} of any
 * type runs under a NoGradGuard (it cuts the autograd graph). A cast inside TorchScript never passes a dtype through DJL, and
 * {@code IValueUtils.forward(block, list, true)} runs the method with autograd on, so a cast is differentiable as in PyTorch
 * (ToCopyBackward brings the gradient back to the fp32 parameter). Java may hold a bf16 array (DJL reports it as UNKNOWN) and
 * apply dtype-free ops to it (reshape, transpose, add, mul, sigmoid, index, sum); anything that passes its dtype to the JNI
 * (softmax, logSoftmax, toType, toFloatArray) must see fp32 first.
 */
public final class HalfOps {
    private static final int FP32 = ComputePrecision.FP32.torchCode();
    private static final Map<ComputePrecision, HalfOps> LOADED = new EnumMap<>(ComputePrecision.class);
    private static PtSymbolBlock toFloat;
    private static PtSymbolBlock storageBytes;
    /** Modules hold no tensors; they live as long as the process. */
    private static PtNDManager moduleManager;

    private final PtSymbolBlock linear;
    private final PtSymbolBlock matmul;
    private final PtSymbolBlock toHalf;

    private HalfOps(ComputePrecision p) {
        int d = p.torchCode();
        linear = load("HalfLinear", "x: Tensor,\n    w: Tensor) -> Tensor:\n    return torch.linear(torch.to(x, " + d
                + "), torch.to(w, " + d + "))");
        matmul = load("HalfMatmul", "a: Tensor,\n    b: Tensor) -> Tensor:\n    return torch.matmul(torch.to(a, " + d
                + "), torch.to(b, " + d + "))");
        toHalf = load("ToHalf", "x: Tensor) -> Tensor:\n    return torch.to(x, " + d + ")");
    }

    /** The modules for a 16-bit precision, loaded once per process. */
    public static synchronized HalfOps of(ComputePrecision p) {
        if (!p.mixed()) {
            throw new IllegalArgumentException("fp32 needs no 16-bit ops");
        }
        return LOADED.computeIfAbsent(p, HalfOps::new);
    }

    private static synchronized PtSymbolBlock load(String className, String signatureAndBody) {
        if (moduleManager == null) {
            moduleManager = (PtNDManager) NDManager.newBaseManager("PyTorch");
        }
        String source = "class " + className + "(Module):\n  __parameters__ = []\n  __buffers__ = []\n  training : bool\n"
                + "  def forward(self: __torch__." + className + ",\n    " + signatureAndBody + "\n";
        try {
            return JniUtils.loadModule(moduleManager, new ByteArrayInputStream(TorchScriptArchive.write(className, source)),
                    false, false);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot load TorchScript module " + className, e);
        }
    }

    /** x W^T with both operands cast to the 16-bit type (autocast's linear); the result is 16-bit. */
    public NDArray linear(NDArray x, NDArray w) {
        return run(linear, x, w);
    }

    /** a @ b in the 16-bit type (autocast's matmul); the result is 16-bit. */
    public NDArray matMul(NDArray a, NDArray b) {
        return run(matmul, a, b);
    }

    /** The 16-bit copy of x (a no-op when x already is), in x's manager. */
    public NDArray toHalf(NDArray x) {
        return run(toHalf, x);
    }

    /** fp32 copy of any floating array (differentiable; x itself when already fp32). */
    public static NDArray toFloat(NDArray x) {
        synchronized (HalfOps.class) {
            if (toFloat == null) {
                toFloat = load("ToFloat", "x: Tensor) -> Tensor:\n    return torch.to(x, " + FP32 + ")");
            }
        }
        return run(toFloat, x);
    }

    /** Bytes the tensor's elements occupy (element_size x numel, read from libtorch: right for dtypes DJL cannot name). */
    public static long storageBytes(NDArray x) {
        synchronized (HalfOps.class) {
            if (storageBytes == null) {
                storageBytes = load("StorageBytes",
                        "x: Tensor) -> int:\n    return torch.mul(torch.element_size(x), torch.numel(x))");
            }
        }
        JniUtils.setGraphExecutorOptimize(false);
        IValue in = IValue.from((PtNDArray) x);
        try (IValue out = IValueUtils.forward(storageBytes, new IValue[] {in})) {
            return out.toLong();
        } finally {
            in.close();
        }
    }

    private static NDArray run(PtSymbolBlock module, NDArray... inputs) {
        // Per thread in libtorch: the profiling executor would re-optimise these one-op graphs for every new shape.
        JniUtils.setGraphExecutorOptimize(false);
        return IValueUtils.forward(module, new NDList(inputs), true).singletonOrThrow();
    }
}
