package io.finetune.trainer.spec;

import io.finetune.api.v1alpha1.MethodType;
import io.finetune.api.v1alpha1.TargetModules;
import java.util.List;

/**
 * GaLore hyper-parameters ({@code spec.method.galore}; galore_torch/galore_projector.py, proj_type "std").
 *
 * @param rank                rank r of the projection; capped at min(m, n) per matrix
 * @param updateProjectionGap T: the basis is recomputed from the current gradient at steps 0, T, 2T, ...
 * @param scale               alpha: multiplies the projected-back update
 * @param targetModules       the 2-D weights that get the projected update (all-linear: every linear except lm_head)
 */
public record GaloreSettings(int rank, int updateProjectionGap, float scale, List<String> targetModules)
        implements MethodSettings {
    public GaloreSettings {
        if (rank < 1 || updateProjectionGap < 1 || !(scale > 0)) {
            throw new IllegalArgumentException("GaLore needs rank >= 1, updateProjectionGap >= 1, scale > 0; got "
                    + rank + ", " + updateProjectionGap + ", " + scale);
        }
        targetModules = List.copyOf(targetModules);
    }

    /** The projector's and optimizer's own settings, for every linear (all-linear). */
    public GaloreSettings(int rank, int updateProjectionGap, float scale) {
        this(rank, updateProjectionGap, scale, List.of(TargetModules.ALL_LINEAR));
    }

    @Override
    public MethodType type() {
        return MethodType.GaLore;
    }

    /** Rank actually used for an (m, n) matrix. */
    public int rankFor(long m, long n) {
        return (int) Math.min(rank, Math.min(m, n));
    }
}
