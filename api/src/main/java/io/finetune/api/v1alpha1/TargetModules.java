package io.finetune.api.v1alpha1;

import java.util.List;

/** Matching of targetModules entries against Hugging Face module names (PEFT's list rule, plus parent modules). */
public final class TargetModules {
    /** The single value that selects every linear layer except lm_head (PEFT's "all-linear"). */
    public static final String ALL_LINEAR = "all-linear";

    private TargetModules() {
    }

    /**
     * True when a module name such as {@code model.layers.0.self_attn.q_proj} is selected by the entries: an entry matches
     * when it equals the name, the name ends with "." + entry (PEFT), or the entry names a parent module ("self_attn", "mlp").
     * {@code all-linear} matches every linear module except {@code lm_head}.
     */
    public static boolean matches(List<String> entries, String moduleName) {
        for (String entry : entries) {
            if (ALL_LINEAR.equalsIgnoreCase(entry)) {
                if (!moduleName.equals("lm_head") && !moduleName.endsWith(".lm_head")) {
                    return true;
                }
            } else if (moduleName.equals(entry) || moduleName.endsWith("." + entry)
                    || moduleName.contains("." + entry + ".") || moduleName.startsWith(entry + ".")) {
                return true;
            }
        }
        return false;
    }
}
