package io.finetune.trainer.storage;

import io.finetune.api.TrainerContract;
import io.finetune.api.TrainerContract.Credentials;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Endpoints and credentials for every scheme, read from the environment the operator sets from the job's Secrets
 * ({@link Credentials}, docs/contracts.md "Credentials"). {@link #toString()} never prints a secret value.
 *
 * @param retry bound on retries of transient failures; FINETUNE_STORAGE_MAX_ATTEMPTS overrides its attempt count
 */
public record StorageEnvironment(
        Optional<String> awsAccessKeyId,
        Optional<String> awsSecretAccessKey,
        Optional<String> awsSessionToken,
        String awsRegion,
        Optional<URI> s3Endpoint,
        boolean s3ForcePathStyle,
        Optional<String> hfToken,
        URI hfEndpoint,
        Path pvcRoot,
        Duration connectTimeout,
        RetryPolicy retry) {

    public static final URI DEFAULT_HF_ENDPOINT = URI.create("https://huggingface.co");
    public static final Path DEFAULT_PVC_ROOT = Path.of(TrainerContract.Paths.PVC_ROOT);

    public static StorageEnvironment fromEnv(Map<String, String> env) {
        RetryPolicy retry = RetryPolicy.DEFAULT;
        Optional<String> attempts = value(env, "FINETUNE_STORAGE_MAX_ATTEMPTS");
        if (attempts.isPresent()) {
            retry = new RetryPolicy(Integer.parseInt(attempts.get()), retry.initialBackoff(), retry.maxBackoff());
        }
        return new StorageEnvironment(
                value(env, Credentials.AWS_ACCESS_KEY_ID),
                value(env, Credentials.AWS_SECRET_ACCESS_KEY),
                value(env, Credentials.AWS_SESSION_TOKEN),
                value(env, Credentials.AWS_REGION).or(() -> value(env, "AWS_DEFAULT_REGION")).orElse("us-east-1"),
                value(env, Credentials.AWS_ENDPOINT_URL).map(URI::create),
                value(env, Credentials.S3_FORCE_PATH_STYLE).map(Boolean::parseBoolean).orElse(false),
                value(env, Credentials.HF_TOKEN),
                value(env, Credentials.HF_ENDPOINT).map(s -> URI.create(s.endsWith("/") ? s.substring(0, s.length() - 1) : s))
                        .orElse(DEFAULT_HF_ENDPOINT),
                value(env, TrainerContract.Env.PVC_ROOT).map(Path::of).orElse(DEFAULT_PVC_ROOT),
                Duration.ofSeconds(10),
                retry);
    }

    public StorageEnvironment withRetry(RetryPolicy newRetry) {
        return new StorageEnvironment(awsAccessKeyId, awsSecretAccessKey, awsSessionToken, awsRegion, s3Endpoint,
                s3ForcePathStyle, hfToken, hfEndpoint, pvcRoot, connectTimeout, newRetry);
    }

    /** Every credential value present, so callers (and tests) can check none of them leaks into output. */
    public List<String> secretValues() {
        List<String> out = new ArrayList<>();
        awsAccessKeyId.ifPresent(out::add);
        awsSecretAccessKey.ifPresent(out::add);
        awsSessionToken.ifPresent(out::add);
        hfToken.ifPresent(out::add);
        return out;
    }

    private static Optional<String> value(Map<String, String> env, String key) {
        String v = env.get(key);
        return v == null || v.isBlank() ? Optional.empty() : Optional.of(v.trim());
    }

    @Override
    public String toString() {
        return "StorageEnvironment[awsCredentials=" + (awsSecretAccessKey.isPresent() ? "set" : "unset")
                + ", awsSessionToken=" + (awsSessionToken.isPresent() ? "set" : "unset")
                + ", awsRegion=" + awsRegion + ", s3Endpoint=" + s3Endpoint.map(URI::toString).orElse("default")
                + ", s3ForcePathStyle=" + s3ForcePathStyle + ", hfToken=" + (hfToken.isPresent() ? "set" : "unset")
                + ", hfEndpoint=" + hfEndpoint + ", pvcRoot=" + pvcRoot + ", retry=" + retry + "]";
    }
}
