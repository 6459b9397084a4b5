package io.finetune.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.finetune.trainer.data.Batch;
import io.finetune.trainer.safetensors.FloatTensor;
import io.finetune.trainer.safetensors.ModelWeights;
import io.finetune.trainer.safetensors.SafetensorsWriter;
import io.finetune.trainer.arrays.OwnedArrays;
import io.finetune.trainer.precision.Autocast;
import io.finetune.trainer.precision.ComputePrecision;
import io.finetune.trainer.precision.HalfOps;
import io.finetune.trainer.quant.QuantizedWeight;
import io.finetune.trainer.quant.Quantizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Random;

/**
 * LLaMA-family decoder (transformers modeling_llama.py, modeling_qwen2.py, modeling_mistral.py, modeling_qwen3.py,
 * modeling_phi3.py, modeling_gemma2.py, modeling_gemma3.py; see
 * {@link ModelFamily}) written with DJL NDArray ops, module names as in
 * Hugging Face so that targetModules mean what users expect. Weights load as fp32 in {@code manager}; under mixed precision
 * ({@link #usePrecision}) the frozen 2-D weights are then held in 16 bits and the forward runs in an {@link Autocast} scope.
 *
 * <p>Memory: a forward allocates its intermediates in the caller's sub-manager; call {@link #attachTo(NDManager)} on that
 * sub-manager first, otherwise results of ops on weights land in the long-lived manager and leak (platform.md).
 */
public final class LlamaModel implements AutoCloseable {
    private final ModelConfig config;
    private final NDManager manager;
    private final Parameter embed;
    private final List<DecoderLayer> layers;
    private final RmsNorm norm;
    private final Linear lmHead;
    private final RotaryEmbedding rope;
    /** The RoPE of sliding-window layers: Gemma 3's rope_local_base_freq, else {@link #rope}. */
    private final RotaryEmbedding localRope;
    private final Quantizer quantizer;
    private ComputePrecision precision = ComputePrecision.FP32;

    private LlamaModel(ModelConfig config, NDManager manager, WeightSource src, Quantizer quantizer) throws IOException {
        this.config = config;
        this.manager = manager;
        this.quantizer = quantizer;
        int d = config.hiddenSize();
        this.embed = param(src, "model.embed_tokens.weight", config.vocabSize(), d);
        this.layers = new ArrayList<>();
        DecoderLayers.Weights weights = new DecoderLayers.Weights() {
            @Override
            public Parameter param(String name, long... shape) throws IOException {
                return LlamaModel.this.param(src, name, shape);
            }

            @Override
            public Linear linear(String module, long out, long in, boolean bias) throws IOException {
                return LlamaModel.this.linear(src, module, out, in, bias);
            }
        };
        for (int i = 0; i < config.numHiddenLayers(); i++) {
            layers.add(DecoderLayers.build(config, i, weights));
        }
        this.norm = new RmsNorm(param(src, "model.norm.weight", d), config.rmsNormEps(), config.family().gemmaBlock());
        this.lmHead = config.tieWordEmbeddings() ? new Linear(ModelConfig.LM_HEAD, embed, null)
                : linear(src, ModelConfig.LM_HEAD, config.vocabSize(), d, false);
        this.rope = new RotaryEmbedding(config);
        this.localRope = config.options().ropeLocalBaseFreq() > 0 ? RotaryEmbedding.local(config) : rope;
    }

    /** Loads config.json and the safetensors weights of a Hugging Face model directory. */
    public static LlamaModel load(Path dir, NDManager manager) throws IOException {
        ModelConfig config = ModelConfig.read(dir);
        ModelWeights weights = ModelWeights.open(dir);
        return new LlamaModel(config, manager, weights::read, null);
    }

    /**
     * Loads a model whose decoder-layer linear weights are held in 4 bits (QLoRA): each is quantized on the host as it is
     * read and only its 4-bit form kept. Embeddings, norms, biases and lm_head load as usual, as bitsandbytes leaves them.
     */
    public static LlamaModel load(Path dir, NDManager manager, Quantizer quantizer) throws IOException {
        ModelConfig config = ModelConfig.read(dir);
        ModelWeights weights = ModelWeights.open(dir);
        return new LlamaModel(config, manager, weights::read, quantizer);
    }

    /** A randomly initialised model (transformers _init_weights: N(0, 0.02) linears and embeddings, ones for norms). */
    public static LlamaModel random(ModelConfig config, long seed, NDManager manager) {
        return random(config, seed, manager, null);
    }

    /** As {@link #random(ModelConfig, long, NDManager)}, the decoder linears quantized at creation as a load would. */
    public static LlamaModel random(ModelConfig config, long seed, NDManager manager, Quantizer quantizer) {
        Random rng = new Random(seed);
        try {
            return new LlamaModel(config, manager, (name, shape) -> {
                long n = 1;
                for (long s : shape) {
                    n *= s;
                }
                float[] data = new float[(int) n];
                boolean ones = name.endsWith("norm.weight");
                for (int i = 0; i < data.length; i++) {
                    data[i] = ones ? 1f : name.endsWith(".bias") ? 0f : (float) (rng.nextGaussian() * 0.02);
                }
                return new FloatTensor(shape, data);
            }, quantizer);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Parameter param(WeightSource src, String name, long... shape) throws IOException {
        FloatTensor t = src.get(name, shape);
        return new Parameter(name, OwnedArrays.create(manager, t.data(), new Shape(t.shape())));
    }

    /** The hook where a frozen linear weight is created: quantized at load when the model is, except lm_head. */
    private Linear linear(WeightSource src, String module, long out, long in, boolean bias) throws IOException {
        Parameter b = bias ? param(src, module + ".bias", out) : null;
        if (quantizer != null && !module.equals(ModelConfig.LM_HEAD)) {
            FloatTensor w = src.get(module + ".weight", out, in);
            return Linear.quantized(module, quantizer.quantize(module + ".weight", w.data(), w.shape(), manager), b);
        }
        return new Linear(module, param(src, module + ".weight", out, in), b);
    }

    /** Whether the decoder-layer linear weights are held in 4 bits. */
    public boolean quantized() {
        return quantizer != null;
    }

    /** How the decoder-layer linear weights are held in 4 bits, or null for a model loaded as is. */
    public Quantizer quantizer() {
        return quantizer;
    }

    /** Bytes of the 4-bit weights (codes + constants); 0 for a model loaded as is. */
    public long quantizedBytes() {
        return linears().stream().map(Linear::quantizedWeight).filter(q -> q != null).mapToLong(QuantizedWeight::bytes).sum();
    }

    /**
     * Sets the compute precision. Call after the method has marked its trainable parameters: with a 16-bit precision every
     * frozen 2-D weight (linears, embedding) is replaced by its 16-bit copy, as PEFT users load the base model in bf16; norm
     * weights, biases and every trainable parameter stay fp32 (the optimizer's master weights).
     */
    public void usePrecision(ComputePrecision p) {
        if (p.mixed()) {
            HalfOps ops = HalfOps.of(p);
            for (Parameter w : baseParameters().values()) {
                if (!w.trainable() && w.array().getShape().dimension() == 2) {
                    w.holdAs(ops.toHalf(w.array()));
                }
            }
        }
        this.precision = p;
    }

    public ComputePrecision precision() {
        return precision;
    }

    public ModelConfig config() {
        return config;
    }

    public NDManager manager() {
        return manager;
    }

    public Parameter embedTokens() {
        return embed;
    }

    public Linear lmHead() {
        return lmHead;
    }

    List<DecoderLayer> layers() {
        return layers;
    }

    RmsNorm finalNorm() {
        return norm;
    }

    /** Every linear module in HF order (q,k,v,o,gate,up,down per layer, Phi-3: qkv,o,gate_up,down, then lm_head). */
    public List<Linear> linears() {
        List<Linear> all = new ArrayList<>();
        for (DecoderLayer l : layers) {
            all.addAll(l.linears());
        }
        all.add(lmHead);
        return all;
    }

    /** The base model's parameters by HF name (a tied lm_head appears once, as model.embed_tokens.weight). */
    public Map<String, Parameter> baseParameters() {
        Map<String, Parameter> m = new LinkedHashMap<>();
        m.put(embed.name(), embed);
        for (DecoderLayer l : layers) {
            for (RmsNorm n : l.norms()) {
                m.put(n.weight().name(), n.weight());
            }
        }
        for (Linear lin : linears()) {
            if (lin.weight() != null) { // a 4-bit weight is no parameter (see Linear#quantizedWeight)
                m.putIfAbsent(lin.weight().name(), lin.weight());
            }
            if (lin.bias() != null) {
                m.put(lin.bias().name(), lin.bias());
            }
        }
        m.put(norm.weight().name(), norm.weight());
        return m;
    }

    /** Base parameters plus every adapter's parameters. */
    public List<Parameter> allParameters() {
        List<Parameter> all = new ArrayList<>(baseParameters().values());
        for (Linear lin : linears()) {
            if (lin.adapter() != null) {
                all.addAll(lin.adapter().parameters());
            }
        }
        return all;
    }

    /** Temporarily attaches every weight to a step's sub-manager, so that intermediates are freed when it closes. */
    public void attachTo(NDManager sub) {
        for (Parameter p : allParameters()) {
            sub.tempAttachAll(p.array());
        }
    }

    public long totalParameters() {
        long quantizedValues = linears().stream().map(Linear::quantizedWeight).filter(q -> q != null)
                .mapToLong(QuantizedWeight::numel).sum();
        return allParameters().stream().mapToLong(Parameter::numel).sum() + quantizedValues;
    }

    /** Logits (B, T, vocab) for the batch; arrays are created in {@code sub}. */
    public NDArray forward(NDManager sub, Batch batch, ForwardContext ctx) {
        return logits(hidden(sub, batch, ctx), ctx);
    }

    /** lm_head on {@link #hidden}: (B, T, vocab) in fp32 for the loss; Gemma 2 soft-caps them (tanh(x / c) c). */
    public NDArray logits(NDArray hidden, ForwardContext ctx) {
        try (Autocast.Scope scope = Autocast.enter(precision)) {
            NDArray logits = Autocast.toFloat(lmHead.forward(hidden, ctx));
            double cap = config.options().finalLogitSoftcapping();
            return cap > 0 ? OwnedArrays.times(OwnedArrays.dividedBy(logits, cap).tanh(), cap) : logits;
        }
    }

    /** The final normed hidden states (B, T, d), the lm_head's input; arrays are created in {@code sub}. */
    public NDArray hidden(NDManager sub, Batch batch, ForwardContext ctx) {
        try (Autocast.Scope scope = Autocast.enter(precision)) {
            NDArray h = embed(sub, batch); // (B, T, d)
            List<LayerInputs> inputs = layerInputs(sub, batch);
            for (int i = 0; i < layers.size(); i++) {
                h = layers.get(i).forward(h, inputs.get(i), ctx);
            }
            return norm.forward(h);
        }
    }

    /**
     * The input embeddings (B, T, d) in fp32 (the residual stream stays fp32); Gemma multiplies them by sqrt(hidden_size)
     * as a float32 scalar (Gemma2Model's normalizer in the hidden dtype, which is fp32 here).
     */
    NDArray embed(NDManager sub, Batch batch) {
        NDArray ids = OwnedArrays.create(sub, batch.inputIds(), new Shape(batch.batchSize(), batch.seqLen()));
        NDArray h = Autocast.toFloat(embed.array().get(ids));
        return config.family().gemmaBlock() ? OwnedArrays.times(h, (float) Math.sqrt(config.hiddenSize())) : h;
    }

    /** Per layer: its RoPE tables and mask (full or windowed), each distinct one built once in {@code sub}. */
    List<LayerInputs> layerInputs(NDManager sub, Batch batch) {
        NDList global = rope.tables(sub, batch);
        NDList local = localRope == rope ? global : localRope.tables(sub, batch);
        LayerInputs full = new LayerInputs(global.get(0), global.get(1), AttentionMask.build(sub, batch));
        LayerInputs windowed = config.layerTypes().contains(LayerAttention.SLIDING) ? new LayerInputs(local.get(0),
                local.get(1), AttentionMask.build(sub, batch, OptionalInt.of(config.slidingWindow()))) : null;
        List<LayerInputs> out = new ArrayList<>();
        for (int i = 0; i < layers.size(); i++) {
            out.add(config.windowOf(i).isPresent() ? windowed : full);
        }
        return out;
    }

    /**
     * Weights in HF layout (adapters not merged); a tied lm_head is not written, as transformers does. 4-bit weights are
     * written dequantized (float32), one at a time.
     */
    public Map<String, FloatTensor> stateDict() {
        Map<String, FloatTensor> out = new LinkedHashMap<>();
        baseParameters().forEach((name, p) -> out.put(name, FloatTensor.of(p.array())));
        for (Linear lin : linears()) {
            if (lin.quantizedWeight() != null) {
                try (NDManager sub = manager.newSubManager()) {
                    out.put(lin.weightName(), FloatTensor.of(lin.frozenWeight(sub)));
                }
            }
        }
        return out;
    }

    /** Writes config.json and model.safetensors (fp32) to {@code dir}. */
    public void save(Path dir, Map<String, FloatTensor> weights, int bosId, int eosId) throws IOException {
        config.write(dir, bosId, eosId);
        SafetensorsWriter.write(dir.resolve(ModelWeights.SINGLE), weights);
    }

    @Override
    public void close() {
        manager.close();
    }
}
