package io.finetune.trainer.linalg;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;
import io.finetune.trainer.arrays.OwnedArrays;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.SplittableRandom;

/**
 * SVD and QR on DJL NDArrays. DJL's API has neither ({@code invoke("svd")} is "Not supported"), so they run as TorchScript
 * modules written from Java ({@link TorchScriptArchive}) that call {@code torch.linalg_svd} / {@code torch.linalg_qr}.
 * Inputs must be 2-D fp32 arrays of the PyTorch engine. Results belong to the manager the caller passes.
 *
 * <p>The randomized SVD follows Halko, Martinsson, Tropp, "Finding structure with randomness" (2011), Alg. 4.4 (randomized
 * subspace iteration, re-orthonormalising with QR after every product) followed by Alg. 5.1 (exact SVD of Q^T A). The Gaussian
 * test matrix comes from Java with a caller-given seed so results are repeatable bit for bit.
 */
public final class LinearAlgebra implements AutoCloseable {
    private static final String SVD_SOURCE = """
            class Svd(Module):
              __parameters__ = []
              __buffers__ = []
              training : bool
              def forward(self: __torch__.Svd,
                a: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
                u, s, vh = torch.linalg_svd(a, False)
                return (u, s, vh)
            """;
    private static final String RANDOMIZED_SVD_SOURCE = """
            class RandomizedSvd(Module):
              __parameters__ = []
              __buffers__ = []
              training : bool
              def forward(self: __torch__.RandomizedSvd,
                a: Tensor,
                omega: Tensor,
                iters: int) -> Tuple[Tensor, Tensor, Tensor]:
                q, _0 = torch.linalg_qr(torch.mm(a, omega))
                q0 = q
                for i in range(iters):
                  z, _1 = torch.linalg_qr(torch.mm(torch.t(a), q0))
                  q1, _2 = torch.linalg_qr(torch.mm(a, z))
                  q0 = q1
                b = torch.mm(torch.t(q0), a)
                ub, s, vh = torch.linalg_svd(b, False)
                return (torch.mm(q0, ub), s, vh)
            """;
    private static final String QR_SOURCE = """
            class Qr(Module):
              __parameters__ = []
              __buffers__ = []
              training : bool
              def forward(self: __torch__.Qr,
                a: Tensor) -> Tuple[Tensor, Tensor]:
                q, r = torch.linalg_qr(a)
                return (q, r)
            """;

    /** Extra columns sampled beyond the rank: makes the captured subspace accurate when the spectrum decays slowly (HMT §4.2). */
    public static final int DEFAULT_OVERSAMPLING = 8;
    /** Power iterations: each one raises the singular-value ratio in the error bound to a higher power (HMT §4.5). */
    public static final int DEFAULT_POWER_ITERATIONS = 2;

    private final PtNDManager moduleManager;
    private final PtSymbolBlock svd;
    private final PtSymbolBlock randomizedSvd;
    private final PtSymbolBlock qr;

    public LinearAlgebra() {
        moduleManager = (PtNDManager) NDManager.newBaseManager("PyTorch");
        try {
            svd = load("Svd", SVD_SOURCE);
            randomizedSvd = load("RandomizedSvd", RANDOMIZED_SVD_SOURCE);
            qr = load("Qr", QR_SOURCE);
        } catch (RuntimeException e) {
            moduleManager.close();
            throw e;
        }
    }

    private PtSymbolBlock load(String className, String source) {
        byte[] archive = TorchScriptArchive.write(className, source);
        try {
            return JniUtils.loadModule(moduleManager, new ByteArrayInputStream(archive), false, false);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot load TorchScript module " + className, e);
        }
    }

    /** Exact thin SVD: u (m, min), s (min), vh (min, n). */
    public Svd svd(NDArray a, NDManager into) {
        requireMatrix(a);
        NDArray[] out = run(svd, into, IValue.from((PtNDArray) a));
        return new Svd(out[0], out[1], out[2]);
    }

    /** Thin QR: q (m, min) with orthonormal columns, r (min, n) upper triangular. */
    public NDArray[] qr(NDArray a, NDManager into) {
        requireMatrix(a);
        return run(qr, into, IValue.from((PtNDArray) a));
    }

    /**
     * Approximate top singular triplets of {@code a}: k = min(rank + oversampling, m, n) triplets, the first {@code rank} of
     * which are accurate to roughly (s_{k+1}/s_rank)^(2·powerIterations+1).
     */
    public Svd randomizedSvd(NDArray a, int rank, int oversampling, int powerIterations, long seed, NDManager into) {
        requireMatrix(a);
        long m = a.getShape().get(0);
        long n = a.getShape().get(1);
        int k = (int) Math.min(rank + (long) oversampling, Math.min(m, n));
        // (n, k) standard Gaussian test matrix from a seeded Java generator.
        float[] gaussian = new float[(int) (n * k)];
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = 0; i < gaussian.length; i++) {
            gaussian[i] = (float) Gaussian.next(random);
        }
        try (NDManager scratch = into.newSubManager()) {
            NDArray omega = OwnedArrays.create(scratch, gaussian, new Shape(n, k));
            NDArray[] out = run(randomizedSvd, into,
                    IValue.from((PtNDArray) a), IValue.from((PtNDArray) omega), IValue.from((long) powerIterations));
            return new Svd(out[0], out[1], out[2]);
        }
    }

    private static NDArray[] run(PtSymbolBlock module, NDManager into, IValue... inputs) {
        // The profiling graph executor re-optimises a TorchScript graph for every new input shape (several profiled runs
        // each); GaLore calls these modules with one shape per weight matrix, and the graphs are a handful of library calls,
        // so plain interpretation is both faster and predictable. The flag is per thread in libtorch: set it on every call.
        JniUtils.setGraphExecutorOptimize(false);
        try {
            IValue result = IValueUtils.forward(module, inputs);
            try {
                IValue[] parts = result.toIValueTuple();
                NDArray[] out = new NDArray[parts.length];
                for (int i = 0; i < parts.length; i++) {
                    out[i] = parts[i].toTensor((PtNDManager) into);
                    parts[i].close();
                }
                return out;
            } finally {
                result.close();
            }
        } finally {
            for (IValue input : inputs) {
                input.close();
            }
        }
    }

    private static void requireMatrix(NDArray a) {
        if (a.getShape().dimension() != 2 || a.getDataType() != DataType.FLOAT32) {
            throw new IllegalArgumentException("expected a 2-D float32 matrix, got " + a.getDataType() + " " + a.getShape());
        }
    }

    @Override
    public void close() {
        svd.close();
        randomizedSvd.close();
        qr.close();
        moduleManager.close();
    }
}
