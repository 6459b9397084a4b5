package io.finetune.trainer.llama2c;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * An independent llama2.c forward pass for the tests: karpathy/llama2.c run.c {@code forward} transcribed (interleaved RoPE
 * on pairs (2i, 2i+1), KV cache, RMSNorm eps 1e-5, SwiGLU), in double precision, reading the raw .bin with its own parser
 * (nothing from the importer or the Hugging Face layout).
 */
final class Llama2cReference {
    final int dim;
    final int hidden;
    final int layers;
    final int heads;
    final int kvHeads;
    final int vocab;
    final int seqLen;
    private final float[] emb;
    private final float[] rmsAtt;
    private final float[] wq;
    private final float[] wk;
    private final float[] wv;
    private final float[] wo;
    private final float[] rmsFfn;
    private final float[] w1;
    private final float[] w2;
    private final float[] w3;
    private final float[] rmsFinal;
    private final float[] wcls;

    Llama2cReference(Path bin) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(bin)).order(ByteOrder.LITTLE_ENDIAN);
        dim = b.getInt();
        hidden = b.getInt();
        layers = b.getInt();
        heads = b.getInt();
        kvHeads = b.getInt();
        int v = b.getInt();
        seqLen = b.getInt();
        vocab = Math.abs(v);
        int hs = dim / heads;
        int kvDim = kvHeads * hs;
        FloatBuffer f = b.asFloatBuffer();
        emb = take(f, vocab * dim);
        rmsAtt = take(f, layers * dim);
        wq = take(f, layers * dim * dim);
        wk = take(f, layers * kvDim * dim);
        wv = take(f, layers * kvDim * dim);
        wo = take(f, layers * dim * dim);
        rmsFfn = take(f, layers * dim);
        w1 = take(f, layers * hidden * dim);
        w2 = take(f, layers * dim * hidden);
        w3 = take(f, layers * hidden * dim);
        rmsFinal = take(f, dim);
        take(f, seqLen * hs / 2);
        take(f, seqLen * hs / 2);
        wcls = v > 0 ? emb : take(f, vocab * dim);
    }

    private static float[] take(FloatBuffer f, int n) {
        float[] a = new float[n];
        f.get(a);
        return a;
    }

    /** Logits [T][vocab] for every position of {@code tokens}, as run.c computes them one position at a time. */
    double[][] logits(int[] tokens) {
        int hs = dim / heads;
        int kvDim = kvHeads * hs;
        int kvMul = heads / kvHeads;
        int t = tokens.length;
        double[][][] kCache = new double[layers][t][];
        double[][][] vCache = new double[layers][t][];
        double[][] out = new double[t][];
        for (int pos = 0; pos < t; pos++) {
            double[] x = new double[dim];
            for (int i = 0; i < dim; i++) {
                x[i] = emb[tokens[pos] * dim + i];
            }
            for (int l = 0; l < layers; l++) {
                double[] xb = rmsnorm(x, rmsAtt, l * dim);
                double[] q = matmul(wq, l * dim * dim, xb, dim, dim);
                double[] k = matmul(wk, l * kvDim * dim, xb, kvDim, dim);
                double[] vv = matmul(wv, l * kvDim * dim, xb, kvDim, dim);
                for (int i = 0; i < dim; i += 2) {
                    int headDim = i % hs;
                    double freq = 1.0 / Math.pow(10000.0, headDim / (double) hs);
                    double val = pos * freq;
                    double fcr = Math.cos(val);
                    double fci = Math.sin(val);
                    for (double[] vec : i < kvDim ? new double[][] {q, k} : new double[][] {q}) {
                        double v0 = vec[i];
                        double v1 = vec[i + 1];
                        vec[i] = v0 * fcr - v1 * fci;
                        vec[i + 1] = v0 * fci + v1 * fcr;
                    }
                }
                kCache[l][pos] = k;
                vCache[l][pos] = vv;
                double[] att = new double[dim];
                for (int h = 0; h < heads; h++) {
                    double[] scores = new double[pos + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int s = 0; s <= pos; s++) {
                        double dot = 0;
                        for (int i = 0; i < hs; i++) {
                            dot += q[h * hs + i] * kCache[l][s][(h / kvMul) * hs + i];
                        }
                        scores[s] = dot / Math.sqrt(hs);
                        max = Math.max(max, scores[s]);
                    }
                    double sum = 0;
                    for (int s = 0; s <= pos; s++) {
                        scores[s] = Math.exp(scores[s] - max);
                        sum += scores[s];
                    }
                    for (int s = 0; s <= pos; s++) {
                        for (int i = 0; i < hs; i++) {
                            att[h * hs + i] += scores[s] / sum * vCache[l][s][(h / kvMul) * hs + i];
                        }
                    }
                }
                double[] o = matmul(wo, l * dim * dim, att, dim, dim);
                for (int i = 0; i < dim; i++) {
                    x[i] += o[i];
                }
                xb = rmsnorm(x, rmsFfn, l * dim);
                double[] hb = matmul(w1, l * hidden * dim, xb, hidden, dim);
                double[] hb2 = matmul(w3, l * hidden * dim, xb, hidden, dim);
                for (int i = 0; i < hidden; i++) {
                    hb[i] = hb[i] / (1 + Math.exp(-hb[i])) * hb2[i];
                }
                double[] down = matmul(w2, l * dim * hidden, hb, dim, hidden);
                for (int i = 0; i < dim; i++) {
                    x[i] += down[i];
                }
            }
            out[pos] = matmul(wcls, 0, rmsnorm(x, rmsFinal, 0), vocab, dim);
        }
        return out;
    }

    private double[] rmsnorm(double[] x, float[] w, int off) {
        double ss = 0;
        for (double v : x) {
            ss += v * v;
        }
        double scale = 1 / Math.sqrt(ss / x.length + 1e-5);
        double[] o = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            o[i] = w[off + i] * x[i] * scale;
        }
        return o;
    }

    private static double[] matmul(float[] w, int off, double[] x, int rows, int cols) {
        double[] o = new double[rows];
        for (int r = 0; r < rows; r++) {
            double s = 0;
            int base = off + r * cols;
            for (int c = 0; c < cols; c++) {
                s += w[base + c] * x[c];
            }
            o[r] = s;
        }
        return o;
    }
}
