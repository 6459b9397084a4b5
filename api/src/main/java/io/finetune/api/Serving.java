package io.finetune.api;

import io.finetune.api.v1alpha1.FineTuneJobSpec;
import io.finetune.api.v1alpha1.LoraSpec;
import io.finetune.api.v1alpha1.MethodType;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Which servers load an output as written, shared by the trainer (from the adapter_config.json it wrote) and the operator
 * (from the spec, at admission). The vLLM rules are those of vLLM's LoRA loader: {@code LoRAConfig.max_lora_rank} must be one
 * of {@link #VLLM_MAX_LORA_RANKS} (default 16) and at least the adapter's r; {@code PEFTHelper} refuses {@code use_dora}; and
 * the LoRA model loader refuses adapters with {@code modules_to_save} (vllm/lora/peft_helper.py, vllm/config/lora.py).
 */
public final class Serving {
    /** The values vLLM accepts for {@code --max-lora-rank}. */
    public static final List<Integer> VLLM_MAX_LORA_RANKS = List.of(1, 8, 16, 32, 64, 128, 256, 320, 512);
    /** vLLM's default {@code --max-lora-rank}. */
    public static final int VLLM_DEFAULT_MAX_LORA_RANK = 16;

    /** A server name as it appears in status.artifact.servableBy. */
    public enum Server {
        peft, vllm, transformers, tgi;
    }

    /**
     * What an adapter looks like to a server.
     *
     * @param rank           r of adapter_config.json
     * @param useDora        use_dora
     * @param modulesToSave  modules_to_save is non-empty
     * @param merged         merged full weights were also written under merged/
     * @param quantizedBase  the 4-bit type the base was held in during training (nf4, fp4; QLoRA), or null
     */
    public record AdapterFacts(int rank, boolean useDora, boolean modulesToSave, boolean merged, String quantizedBase) {
        /** An adapter trained over the base as loaded. */
        public AdapterFacts(int rank, boolean useDora, boolean modulesToSave, boolean merged) {
            this(rank, useDora, modulesToSave, merged, null);
        }
    }

    /**
     * @param servableBy servers that load the artifact at its uri as written
     * @param vllmProblem why vLLM will not load the adapter and how to fix it, or null
     * @param note        how to serve it (e.g. the --max-lora-rank it needs, or where merged weights are), or null
     */
    public record Verdict(List<String> servableBy, String vllmProblem, String note) {
    }

    private Serving() {
    }

    /** The smallest allowed {@code --max-lora-rank} that holds rank r; empty above 512. */
    public static Optional<Integer> vllmMaxLoraRankFor(int rank) {
        return VLLM_MAX_LORA_RANKS.stream().filter(v -> v >= rank).findFirst();
    }

    /** Full weights in Hugging Face layout: any server that loads a Hugging Face checkpoint. */
    public static Verdict fullWeights() {
        return new Verdict(names(Server.transformers, Server.vllm, Server.tgi), null, null);
    }

    public static Verdict adapter(AdapterFacts f) {
        List<String> servable = new ArrayList<>(names(Server.peft));
        String merge = f.merged() ? "; the merged weights under merged/ load in any Hugging Face server (vLLM included)"
                : "; set spec.output.merge: true to also get merged full weights any server loads";
        String problem = null;
        Optional<Integer> maxRank = vllmMaxLoraRankFor(f.rank());
        if (f.useDora()) {
            problem = "vLLM does not load DoRA adapters (use_dora: true, from spec.method.type: DoRA)" + merge;
        } else if (f.modulesToSave()) {
            problem = "vLLM does not load adapters with modules_to_save" + merge;
        } else if (maxRank.isEmpty()) {
            problem = "vLLM loads LoRA ranks up to 512 (--max-lora-rank " + VLLM_MAX_LORA_RANKS + "), this adapter has r="
                    + f.rank() + " (spec.method.lora.rank): use a rank of at most 512" + merge;
        }
        String note = null;
        if (problem == null) {
            servable.add(Server.vllm.name());
            if (maxRank.get() > VLLM_DEFAULT_MAX_LORA_RANK) {
                note = "vLLM needs --max-lora-rank " + maxRank.get() + " for r=" + f.rank() + " (its default is "
                        + VLLM_DEFAULT_MAX_LORA_RANK + ")";
            }
        }
        if (f.merged()) {
            note = (note == null ? "" : note + "; ") + "merged full weights under merged/ load in transformers, vllm and tgi";
        }
        if (f.quantizedBase() != null) {
            // PEFT writes the same adapter after QLoRA training; only how the base is loaded differs.
            note = (note == null ? "" : note + "; ") + "trained over the " + f.quantizedBase() + " 4-bit base: PEFT on "
                    + "transformers with BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type=\"" + f.quantizedBase()
                    + "\") reproduces the training forward; the 16-bit base (vLLM included) loads it too, differing by the "
                    + "quantization error" + (f.merged() ? "; merged/ holds the dequantized base with the adapter folded in"
                    : "");
        }
        return new Verdict(servable, problem, note);
    }

    /** What the spec will produce, judged before training (the trainer writes no modules_to_save). */
    public static Verdict forSpec(FineTuneJobSpec spec) {
        if (spec == null || spec.method == null || spec.method.type == null || !spec.method.type.isAdapter()) {
            return fullWeights();
        }
        LoraSpec lora = spec.method.loraOrDefault();
        boolean merged = spec.output != null && Boolean.TRUE.equals(spec.output.merge);
        String quantized = spec.model == null || spec.model.quantization == null || spec.model.quantization.type == null
                ? null : spec.model.quantization.type.name().toLowerCase(java.util.Locale.ROOT);
        return adapter(new AdapterFacts(lora.rank == null ? new LoraSpec().rank : lora.rank, spec.method.type == MethodType.DoRA,
                false, merged, quantized));
    }

    private static List<String> names(Server... servers) {
        List<String> out = new ArrayList<>();
        for (Server s : servers) {
            out.add(s.name());
        }
        return out;
    }
}
