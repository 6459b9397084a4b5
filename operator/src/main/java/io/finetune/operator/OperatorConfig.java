package io.finetune.operator;

import io.smallrye.config.ConfigMapping;
import io.finetune.operator.settings.OperatorSettings;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.Optional;

/** application.properties / env (FINETUNE_OPERATOR_*) settings of the operator. */
@ConfigMapping(prefix = "finetune.operator")
public interface OperatorConfig {
    /** Trainer image for FineTuneJobs without spec.image. */
    Optional<String> trainerImage();

    @WithDefault("IfNotPresent")
    String imagePullPolicy();

    Optional<String> defaultCpu();

    Optional<String> defaultMemory();

    Optional<String> scratchSizeLimit();

    LeaderElection leaderElection();

    /** Lease-based leader election (active in the profiles of quarkus.operator-sdk.activate-leader-election-for-profiles). */
    interface LeaderElection {
        @WithDefault("finetune-operator-lease")
        String leaseName();

        /**
         * Namespace of the Lease; default: the client's namespace (kubeconfig context, KUBERNETES_NAMESPACE, or the pod's
         * own). Without either, leader election is off (see {@link LeaderLease}).
         */
        Optional<String> leaseNamespace();

        /** This replica's name in the Lease; default: HOSTNAME (the pod name) or the host name, plus a random suffix. */
        Optional<String> identity();

        @WithDefault("15s")
        Duration leaseDuration();

        @WithDefault("10s")
        Duration renewDeadline();

        @WithDefault("2s")
        Duration retryPeriod();
    }

    default OperatorSettings settings() {
        return new OperatorSettings(trainerImage(), imagePullPolicy(), defaultCpu(), defaultMemory(), scratchSizeLimit());
    }
}
