package io.finetune.trainer.pod;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.http.HttpClient;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.http.HttpResponse;
import io.fabric8.kubernetes.client.utils.URLUtils;
import io.finetune.api.TrainerResult;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.api.v1alpha1.Progress;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.io.IOException;

/**
 * Sends {@code {"status":{"progress":{...}}}} as a JSON merge patch to the {@code status} subresource of the pod's own
 * FineTuneJob. Only {@code patch} on {@code finetunejobs/status} is needed: no GET first, so the per-job Role
 * ({@code get}/{@code patch} on {@code finetunejobs/status}, resourceNames [job]) is enough, and a merge patch leaves every
 * other status field (phase, conditions, artifact: owned by the operator) untouched.
 */
public final class KubernetesStatusPatcher implements StatusPatcher {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String MERGE_PATCH = "application/merge-patch+json";
    private static final long REQUEST_TIMEOUT_SECONDS = 10;

    private final KubernetesClient client;
    private final boolean ownsClient;
    private final String namespace;
    private final String name;

    public KubernetesStatusPatcher(KubernetesClient client, String namespace, String name) {
        this(client, false, namespace, name);
    }

    private KubernetesStatusPatcher(KubernetesClient client, boolean ownsClient, String namespace, String name) {
        this.client = client;
        this.ownsClient = ownsClient;
        this.namespace = namespace;
        this.name = name;
    }

    /**
     * A patcher with its own client from the usual sources: in a pod the automounted ServiceAccount token and CA; outside
     * one KUBECONFIG or KUBERNETES_MASTER/KUBERNETES_AUTH_TOKEN.
     */
    public static KubernetesStatusPatcher autoConfigured(String namespace, String name) {
        KubernetesClient client = new KubernetesClientBuilder().withConfig(reportingConfig(Config.autoConfigure(null))).build();
        return new KubernetesStatusPatcher(client, true, namespace, name);
    }

    /**
     * The client's own retry loop (10 retries with exponential backoff by default) would hold one report for minutes
     * on a 5xx; {@link ProgressReporter} retries instead, always with the newest value, so requests fail fast here.
     */
    public static Config reportingConfig(Config base) {
        return new ConfigBuilder(base)
                .withRequestRetryBackoffLimit(0)
                .withConnectionTimeout(5_000)
                .withRequestTimeout((int) TimeUnit.SECONDS.toMillis(REQUEST_TIMEOUT_SECONDS))
                .build();
    }

    /**
     * One raw PATCH. Not fabric8's {@code resource(...).subresource("status").patch(...)}: that GETs the main resource
     * first, which the per-job Role does not allow.
     */
    @Override
    public void patchProgress(Progress progress) throws IOException, InterruptedException {
        HttpClient http = client.getHttpClient();
        String url = URLUtils.join(client.getConfiguration().getMasterUrl(), "apis", FineTuneJob.GROUP, FineTuneJob.VERSION,
                "namespaces", namespace, "finetunejobs", name, "status");
        HttpRequest request = http.newHttpRequestBuilder()
                .uri(url)
                .method("PATCH", MERGE_PATCH, body(progress))
                .timeout(REQUEST_TIMEOUT_SECONDS, TimeUnit.SECONDS)
                .build();
        HttpResponse<String> response;
        try {
            response = http.sendAsync(request, String.class).get(REQUEST_TIMEOUT_SECONDS + 5, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            throw new IOException("PATCH " + url + " failed: " + cause, cause);
        } catch (TimeoutException e) {
            throw new IOException("PATCH " + url + " timed out after " + REQUEST_TIMEOUT_SECONDS + "s", e);
        }
        if (!response.isSuccessful()) {
            throw new IOException("PATCH " + url + ": HTTP " + response.code() + " " + statusMessage(response.body()));
        }
    }

    /** The message of a Kubernetes Status body, else the body itself (short). */
    private static String statusMessage(String body) {
        if (body == null || body.isBlank()) {
            return "";
        }
        try {
            JsonNode status = JSON.readTree(body);
            if (status.hasNonNull("message")) {
                return status.get("message").asText();
            }
        } catch (JsonProcessingException | RuntimeException e) {
            // not JSON: fall through
        }
        return body.length() > 200 ? body.substring(0, 200) + "..." : body;
    }

    /**
     * Every progress field is sent, absent ones as null: in a merge patch null deletes the field, so a loss that became
     * NaN does not leave a stale number on display (JSON has no NaN/Infinity; the API server would reject the whole patch).
     */
    static String body(Progress p) {
        Map<String, Object> progress = new LinkedHashMap<>();
        progress.put("step", p.step);
        progress.put("totalSteps", p.totalSteps);
        progress.put("epoch", TrainerResult.finite(p.epoch));
        progress.put("loss", TrainerResult.finite(p.loss));
        progress.put("learningRate", TrainerResult.finite(p.learningRate));
        progress.put("tokensPerSecond", TrainerResult.finite(p.tokensPerSecond));
        progress.put("eta", p.eta);
        progress.put("summary", p.summary);
        try {
            return JSON.writeValueAsString(Map.of("status", Map.of("progress", progress)));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("progress is not serialisable", e);
        }
    }

    @Override
    public String target() {
        return "FineTuneJob " + namespace + "/" + name;
    }

    @Override
    public void close() {
        if (ownsClient) {
            client.close();
        }
    }
}
