package io.finetune.trainer.precision;

import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

/**
 * A thread-local compute precision for the forward pass, as {@code torch.autocast} is thread-local: inside a scope with a
 * 16-bit precision the model's matmuls run in that type ({@link #linear}, {@link #matMul}); everything else keeps the type
 * its inputs promote to, so the residual stream, RMSNorm, softmax (scores + an fp32 mask promote to fp32) and the loss stay
 * fp32. Outside a scope, or with FP32, every op is the plain fp32 op, bit for bit as before.
 */
public final class Autocast {
    private static final ThreadLocal<ComputePrecision> CURRENT = ThreadLocal.withInitial(() -> ComputePrecision.FP32);

    private Autocast() {
    }

    /** Restores the previous precision on close. */
    public interface Scope extends AutoCloseable {
        @Override
        void close();
    }

    public static Scope enter(ComputePrecision p) {
        ComputePrecision previous = CURRENT.get();
        CURRENT.set(p);
        return () -> CURRENT.set(previous);
    }

    public static ComputePrecision current() {
        return CURRENT.get();
    }

    /** x W^T for x (..., in) and W (out, in): torch's F.linear (one JNI call, no Java transpose view) or its 16-bit form. */
    public static NDArray linear(NDArray x, NDArray w) {
        ComputePrecision p = CURRENT.get();
        return p.mixed() ? HalfOps.of(p).linear(x, w) : JniUtils.linear((PtNDArray) x, (PtNDArray) w, null);
    }

    /** a @ b, in the scope's precision. */
    public static NDArray matMul(NDArray a, NDArray b) {
        ComputePrecision p = CURRENT.get();
        return p.mixed() ? HalfOps.of(p).matMul(a, b) : a.matMul(b);
    }

    /** x in fp32 (the identity in an fp32 scope): what softmax, log-softmax and reading values back need. */
    public static NDArray toFloat(NDArray x) {
        return CURRENT.get().mixed() ? HalfOps.toFloat(x) : x;
    }
}
