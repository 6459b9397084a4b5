package io.finetune.trainer.llama2c;

import io.finetune.trainer.safetensors.FloatTensor;
import io.finetune.trainer.model.ModelConfig;
import io.finetune.trainer.model.ModelException;
import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A llama2.c checkpoint in its legacy format (karpathy/llama2.c run.c {@code read_checkpoint}/{@code memory_map_weights}):
 * seven little-endian int32 (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len; a negative vocab_size
 * means an untied classifier follows), then float32 arrays: token embedding [V,d], rms_att [L,d], wq [L,d,d],
 * wk [L,kv*hd,d], wv [L,kv*hd,d], wo [L,d,d], rms_ffn [L,d], w1 [L,h,d], w2 [L,d,h], w3 [L,h,d], rms_final [d],
 * freq_cis_real/imag [seq, hd/2] (unused: recomputed from theta), and wcls [V,d] when untied.
 */
public record Llama2cCheckpoint(Header header, Map<String, float[]> raw) {
    /** The header fields, as run.c's Config. */
    public record Header(int dim, int hiddenDim, int nLayers, int nHeads, int nKvHeads, int vocabSize, int seqLen,
                         boolean shared) {
        public int headDim() {
            return dim / nHeads;
        }

        public int kvDim() {
            return nKvHeads * headDim();
        }
    }

    /** Raw array names, in file order (llama2.c's TransformerWeights fields). */
    static final String[] ORDER = {"token_embedding", "rms_att", "wq", "wk", "wv", "wo", "rms_ffn", "w1", "w2", "w3",
        "rms_final", "freq_cis_real", "freq_cis_imag", "wcls"};

    public static Llama2cCheckpoint read(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 28) {
                throw new ModelException(file + ": " + size + " bytes, too short for a llama2.c header (28 bytes)");
            }
            if (size > Integer.MAX_VALUE) {
                throw new ModelException(file + ": " + size + " bytes; checkpoints over 2 GiB are not supported");
            }
            MappedByteBuffer buf = ch.map(FileChannel.MapMode.READ_ONLY, 0, size);
            buf.order(ByteOrder.LITTLE_ENDIAN);
            IntBuffer ints = buf.asIntBuffer();
            int[] h = new int[7];
            ints.get(h);
            String[] names = {"dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len"};
            for (int i = 0; i < 7; i++) {
                if ((i == 5 ? Math.abs((long) h[i]) : h[i]) <= 0) {
                    throw new ModelException(file + ": header field " + names[i] + " is " + h[i]
                            + " (not a llama2.c legacy checkpoint? the v1/v2 formats start with magic 0x616b3432)");
                }
            }
            Header hd = new Header(h[0], h[1], h[2], h[3], h[4], Math.abs(h[5]), h[6], h[5] > 0);
            if (hd.dim() % hd.nHeads() != 0 || hd.nHeads() % hd.nKvHeads() != 0) {
                throw new ModelException(file + ": dim " + hd.dim() + ", n_heads " + hd.nHeads() + ", n_kv_heads "
                        + hd.nKvHeads() + " do not divide evenly");
            }
            long[] sizes = sizes(hd);
            long floats = 0;
            for (long s : sizes) {
                floats += s;
            }
            long expected = 28 + 4 * floats;
            if (size != expected) {
                throw new ModelException(file + ": " + size + " bytes, but its header " + hd + " needs " + expected);
            }
            buf.position(28);
            FloatBuffer fb = buf.slice().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
            Map<String, float[]> raw = new LinkedHashMap<>();
            for (int i = 0; i < ORDER.length; i++) {
                float[] a = new float[Math.toIntExact(sizes[i])];
                fb.get(a);
                raw.put(ORDER[i], a);
            }
            return new Llama2cCheckpoint(hd, raw);
        }
    }

    private static long[] sizes(Header h) {
        long d = h.dim();
        long l = h.nLayers();
        long kv = h.kvDim();
        long ff = h.hiddenDim();
        long v = h.vocabSize();
        long half = h.headDim() / 2;
        return new long[] {v * d, l * d, l * d * d, l * kv * d, l * kv * d, l * d * d, l * d, l * ff * d, l * d * ff,
            l * ff * d, d, h.seqLen() * half, h.seqLen() * half, h.shared() ? 0 : v * d};
    }

    /** The config.json this checkpoint becomes (llama2.c's RMSNorm eps is 1e-5, RoPE theta 10000). */
    public ModelConfig config() {
        Header h = header;
        return new ModelConfig("llama", h.dim(), h.hiddenDim(), h.nLayers(), h.nHeads(), h.nKvHeads(), h.headDim(), 1e-5,
                10000.0, null, h.vocabSize(), h.shared(), false, h.seqLen());
    }

    /** Weights by Hugging Face name, q/k rows permuted from interleaved to rotate_half RoPE; lm_head only when untied. */
    public Map<String, FloatTensor> hfWeights() {
        Header h = header;
        int d = h.dim();
        int kv = h.kvDim();
        int ff = h.hiddenDim();
        Map<String, FloatTensor> out = new LinkedHashMap<>();
        out.put("model.embed_tokens.weight", new FloatTensor(new long[] {h.vocabSize(), d}, raw.get("token_embedding")));
        for (int l = 0; l < h.nLayers(); l++) {
            String p = "model.layers." + l + ".";
            out.put(p + "input_layernorm.weight", layer("rms_att", l, d));
            out.put(p + "self_attn.q_proj.weight", new FloatTensor(new long[] {d, d},
                    permuteRotary(layerData("wq", l, d * d), h.nHeads(), d)));
            out.put(p + "self_attn.k_proj.weight", new FloatTensor(new long[] {kv, d},
                    permuteRotary(layerData("wk", l, kv * d), h.nKvHeads(), d)));
            out.put(p + "self_attn.v_proj.weight", layer("wv", l, kv, d));
            out.put(p + "self_attn.o_proj.weight", layer("wo", l, d, d));
            out.put(p + "post_attention_layernorm.weight", layer("rms_ffn", l, d));
            out.put(p + "mlp.gate_proj.weight", layer("w1", l, ff, d));
            out.put(p + "mlp.down_proj.weight", layer("w2", l, d, ff));
            out.put(p + "mlp.up_proj.weight", layer("w3", l, ff, d));
        }
        out.put("model.norm.weight", new FloatTensor(new long[] {d}, raw.get("rms_final")));
        if (!h.shared()) {
            out.put("lm_head.weight", new FloatTensor(new long[] {h.vocabSize(), d}, raw.get("wcls")));
        }
        return out;
    }

    /**
     * llama2.c rotates the interleaved pairs (2i, 2i+1) of each head, Hugging Face LLaMA the halves (i, i + hd/2)
     * (rotate_half). Rows are reordered per head as transformers' convert_llama_weights_to_hf.py {@code permute} does:
     * {@code w.view(heads, hd/2, 2, in).transpose(1, 2).reshape(out, in)}, i.e. new row (p * hd/2 + i) = old row (2i + p).
     */
    static float[] permuteRotary(float[] w, int heads, int in) {
        int rows = w.length / in;
        int hd = rows / heads;
        int half = hd / 2;
        float[] out = new float[w.length];
        for (int head = 0; head < heads; head++) {
            for (int p = 0; p < 2; p++) {
                for (int i = 0; i < half; i++) {
                    int from = head * hd + 2 * i + p;
                    int to = head * hd + p * half + i;
                    System.arraycopy(w, from * in, out, to * in, in);
                }
            }
        }
        return out;
    }

    private float[] layerData(String name, int layer, int n) {
        float[] out = new float[n];
        System.arraycopy(raw.get(name), layer * n, out, 0, n);
        return out;
    }

    private FloatTensor layer(String name, int layer, int... shape) {
        int n = 1;
        long[] s = new long[shape.length];
        for (int i = 0; i < shape.length; i++) {
            n *= shape[i];
            s[i] = shape[i];
        }
        return new FloatTensor(s, layerData(name, layer, n));
    }
}
