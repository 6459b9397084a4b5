package io.finetune.operator.desired;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.finetune.api.TrainerContract.Credentials;
import io.finetune.api.Violation;
import io.finetune.api.v1alpha1.FineTuneJobSpec;
import io.finetune.operator.desired.StorageLocations.Location;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Maps credentials Secrets to the trainer's env ({@link Credentials}; docs/contracts.md, "Credentials") as secretKeyRef
 * only: the operator never reads a Secret. The trainer takes one set of env per storage family, so the S3 keys come from the Secret named next to the
 * s3:// URIs and the Hugging Face token from the one next to the hf:// URIs; two different Secrets for one family are
 * a spec error. Every key is optional: a Secret may hold only some of them.
 */
public final class CredentialEnv {
    private CredentialEnv() {
    }

    /** The Secret each family uses; conflicting Secrets become violations naming the second field. */
    static Map<Credentials, String> secrets(FineTuneJobSpec spec, List<Violation> violations) {
        Map<Credentials, String> chosen = new LinkedHashMap<>();
        Map<Credentials, String> chosenFrom = new LinkedHashMap<>();
        for (Location loc : StorageLocations.of(spec)) {
            if (loc.secret() == null) {
                continue;
            }
            for (Credentials f : Credentials.values()) {
                if (!loc.uri().startsWith(f.scheme())) {
                    continue;
                }
                String previous = chosen.putIfAbsent(f, loc.secret());
                if (previous == null) {
                    chosenFrom.put(f, loc.secretField());
                } else if (!previous.equals(loc.secret())) {
                    violations.add(new Violation(loc.secretField(), "is '" + loc.secret() + "' but " + chosenFrom.get(f)
                            + " is '" + previous + "': the trainer takes one " + f.scheme() + " credential set, use one Secret"));
                }
            }
        }
        return chosen;
    }

    /** Violations of the one-Secret-per-family rule; empty when the env can be built. */
    public static List<Violation> check(FineTuneJobSpec spec) {
        List<Violation> out = new ArrayList<>();
        secrets(spec, out);
        return out;
    }

    /** secretKeyRef env for every key of every family in use. */
    public static List<EnvVar> env(FineTuneJobSpec spec) {
        List<EnvVar> env = new ArrayList<>();
        secrets(spec, new ArrayList<>()).forEach((family, secret) -> {
            for (String key : family.variables()) {
                env.add(new EnvVarBuilder().withName(key)
                        .withNewValueFrom().withNewSecretKeyRef(key, secret, true).endValueFrom()
                        .build());
            }
        });
        return env;
    }

    /** The Secret the env of {@code family} reads, if any (for tests and messages). */
    static Optional<String> secretFor(FineTuneJobSpec spec, Credentials family) {
        return Optional.ofNullable(secrets(spec, new ArrayList<>()).get(family));
    }
}
