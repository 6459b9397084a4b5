package io.finetune.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import io.finetune.trainer.data.Batch;
import io.finetune.trainer.arrays.OwnedArrays;

/**
 * Rotary position embedding (RoFormer, Su et al. 2021), in the rotate-half form of transformers modeling_llama.py
 * (apply_rotary_pos_emb), with the llama3 and linear frequency scalings of modeling_rope_utils.py
 * (_compute_llama3_parameters, _compute_linear_scaling_rope_parameters). Phi-3's partial_rotary_factor rotates only the
 * first rotaryDim dims of each head and passes the rest through (Phi3's apply_rotary_pos_emb: q_rot, q_pass).
 */
public final class RotaryEmbedding {
    private final int rotaryDim;
    private final double[] invFreq; // (rotaryDim / 2)

    /** The RoPE of the full-attention layers: rope_theta and rope_scaling. */
    public RotaryEmbedding(ModelConfig config) {
        this(config.options().rotaryDim(config.headDim()), config.ropeTheta(), config.ropeScaling());
    }

    /** A RoPE over the first {@code rotaryDim} dims of each head with base {@code theta}. */
    public RotaryEmbedding(int rotaryDim, double theta, RopeScaling scaling) {
        this.rotaryDim = rotaryDim;
        this.invFreq = inverseFrequencies(rotaryDim, theta, scaling);
    }

    /** Gemma 3's sliding layers: rope_local_base_freq, unscaled (Gemma3TextModel's rotary_emb_local). */
    public static RotaryEmbedding local(ModelConfig config) {
        return new RotaryEmbedding(config.options().rotaryDim(config.headDim()), config.options().ropeLocalBaseFreq(), null);
    }

    static double[] inverseFrequencies(int dim, double theta, RopeScaling scaling) {
        double[] f = new double[dim / 2];
        for (int i = 0; i < f.length; i++) {
            f[i] = 1.0 / Math.pow(theta, (2.0 * i) / dim);
        }
        if (scaling == null) {
            return f;
        }
        if (scaling.type() == RopeScaling.Type.LINEAR) {
            for (int i = 0; i < f.length; i++) {
                f[i] /= scaling.factor();
            }
            return f;
        }
        double lowWavelen = scaling.originalMaxPositionEmbeddings() / scaling.lowFreqFactor();
        double highWavelen = scaling.originalMaxPositionEmbeddings() / scaling.highFreqFactor();
        for (int i = 0; i < f.length; i++) {
            double wavelen = 2 * Math.PI / f[i];
            if (wavelen > lowWavelen) {
                f[i] = f[i] / scaling.factor();
            } else if (wavelen >= highWavelen) {
                double smooth = (scaling.originalMaxPositionEmbeddings() / wavelen - scaling.lowFreqFactor())
                        / (scaling.highFreqFactor() - scaling.lowFreqFactor());
                f[i] = (1 - smooth) * f[i] / scaling.factor() + smooth * f[i];
            }
        }
        return f;
    }

    /** cos and sin tables for the batch's position ids, each (B, 1, T, rotaryDim). */
    public NDList tables(NDManager manager, Batch batch) {
        int b = batch.batchSize();
        int t = batch.seqLen();
        int headDim = rotaryDim;
        int half = headDim / 2;
        float[] cos = new float[b * t * headDim];
        float[] sin = new float[b * t * headDim];
        for (int i = 0; i < b * t; i++) {
            float p = batch.positionIds()[i];
            for (int j = 0; j < half; j++) {
                float angle = p * (float) invFreq[j]; // fp32 product, as transformers computes freqs
                float c = (float) Math.cos(angle);
                float s = (float) Math.sin(angle);
                cos[i * headDim + j] = c;
                cos[i * headDim + j + half] = c;
                sin[i * headDim + j] = s;
                sin[i * headDim + j + half] = s;
            }
        }
        Shape shape = new Shape(b, 1, t, headDim);
        return new NDList(OwnedArrays.create(manager, cos, shape), OwnedArrays.create(manager, sin, shape));
    }

    /** x: (B, heads, T, headDim) -> x cos + rotate_half(x) sin over the first rotaryDim (cos's last axis) dims. */
    public static NDArray apply(NDArray x, NDArray cos, NDArray sin) {
        int last = x.getShape().dimension() - 1;
        long rotary = cos.getShape().get(last);
        if (rotary < x.getShape().get(last)) {
            NDArray rotated = apply(x.get(new NDIndex("..., :{}", rotary)), cos, sin);
            return NDArrays.concat(new NDList(rotated, x.get(new NDIndex("..., {}:", rotary))), last);
        }
        NDList halves = x.split(2, last);
        NDArray rotated = NDArrays.concat(new NDList(halves.get(1).neg(), halves.get(0)), x.getShape().dimension() - 1);
        return x.mul(cos).add(rotated.mul(sin));
    }
}
