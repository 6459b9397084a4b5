package io.finetune.trainer.pod;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.finetune.api.TrainerResult;
import io.finetune.api.v1alpha1.Artifact;
import io.finetune.api.v1alpha1.MemoryUsage;
import io.finetune.api.v1alpha1.Metrics;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TerminationLogTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    @TempDir
    Path dir;

    private final SecretRedactor redactor = SecretRedactor.fromEnv(Map.of("AWS_SECRET_ACCESS_KEY", SECRET));

    @Test
    void successCarriesArtifactMetricsMemoryAndStepsAsCompactJson() throws IOException {
        Path file = dir.resolve("termination-log");
        new TerminationLog(file, redactor).write(TrainerResult.succeeded(artifact(), metrics(), memory(), 500));

        String text = Files.readString(file);
        assertThat(text).doesNotContain("\n").doesNotContain(": ");
        JsonNode json = JSON.readTree(text);
        assertThat(json.get("outcome").asText()).isEqualTo("Succeeded");
        assertThat(json.has("reason")).isFalse();
        assertThat(json.get("steps").asLong()).isEqualTo(500);
        assertThat(json.at("/artifact/digest").asText()).isEqualTo("sha256:" + "ab".repeat(32));
        assertThat(json.at("/artifact/servableBy/1").asText()).isEqualTo("vllm");
        assertThat(json.at("/metrics/evalLossAfter").asDouble()).isEqualTo(1.2);
        assertThat(json.at("/memory/trainableParameters").asLong()).isEqualTo(851_968);
        assertThat(TrainerResult.parse(text)).get().extracting(TrainerResult::outcome)
                .isEqualTo(TrainerResult.Outcome.Succeeded);
    }

    @Test
    void aHugeMultiLineFailureWithASecretBecomesOneRedactedLineWithin4KiB() throws IOException {
        Path file = dir.resolve("termination-log");
        String message = "train.jsonl:7: field 'completion' missing\n" + ("déjà vu " + SECRET + " \"quoted\"\n").repeat(400);
        RuntimeException error = new RuntimeException(message, new IllegalStateException("disk said no"));
        TerminationLog log = new TerminationLog(file, redactor);

        log.write(log.failure(TrainerResult.Reason.InvalidDataset, error));

        byte[] bytes = Files.readAllBytes(file);
        assertThat(bytes.length).isLessThanOrEqualTo(TrainerResult.MAX_BYTES).isGreaterThan(2_000);
        String text = new String(bytes, StandardCharsets.UTF_8);
        assertThat(text).doesNotContain(SECRET).doesNotContain("\n");
        JsonNode json = JSON.readTree(text);   // still valid JSON after truncation
        assertThat(json.get("outcome").asText()).isEqualTo("Failed");
        assertThat(json.get("reason").asText()).isEqualTo("InvalidDataset");
        assertThat(json.get("message").asText()).startsWith("train.jsonl:7: field 'completion' missing")
                .contains("<redacted:AWS_SECRET_ACCESS_KEY>").endsWith("...");
    }

    @Test
    void failureMessageNamesTheCauseChainOnce() {
        Throwable e = new IllegalStateException("cannot publish to s3://bucket/out",
                new java.io.IOException("connection reset"));
        assertThat(TerminationLog.describe(e)).isEqualTo("cannot publish to s3://bucket/out; caused by: connection reset");
        assertThat(TerminationLog.describe(new OutOfMemoryError("Java heap space")))
                .isEqualTo("OutOfMemoryError: Java heap space");
        assertThat(TerminationLog.describe(new NullPointerException())).isEqualTo("NullPointerException");
    }

    @Test
    void artifactUriCredentialsAreRedacted() throws IOException {
        Artifact a = artifact();
        a.uri = "https://alice:pw@store.example.com/adapters/x";
        String json = new TerminationLog(dir.resolve("t"), redactor).write(TrainerResult.succeeded(a, null, null, 1));
        assertThat(json).doesNotContain("alice:pw").contains("https://<redacted>@store.example.com/adapters/x");
    }

    @Test
    void aDivergedRunsNaNLossIsLeftOutInsteadOfBreakingTheJson() throws IOException {
        Metrics m = metrics();
        m.trainLoss = Double.NaN;
        String json = new TerminationLog(dir.resolve("t"), redactor).write(TrainerResult.succeeded(artifact(), m, null, 3));
        assertThat(json).doesNotContain("NaN");
        assertThat(JSON.readTree(json).at("/metrics/evalLossAfter").asDouble()).isEqualTo(1.2);
        assertThat(JSON.readTree(json).at("/metrics").has("trainLoss")).isFalse();
    }

    @Test
    void anUnwritablePathDoesNotThrow() {
        Path file = dir.resolve("missing-dir").resolve("termination-log");
        String json = new TerminationLog(file, redactor).write(TrainerResult.failed(TrainerResult.Reason.TrainerError, "x"));
        assertThat(json).contains("\"outcome\":\"Failed\"");
        assertThat(file).doesNotExist();
    }

    @Test
    void aResultThatCannotFitIsReportedAsSuchNotCutMidJson() throws IOException {
        Artifact a = artifact();
        a.uri = "s3://bucket/" + "x".repeat(5_000);
        String json = new TerminationLog(dir.resolve("t"), redactor).write(TrainerResult.succeeded(a, null, null, 1));
        assertThat(json.getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(TrainerResult.MAX_BYTES);
        assertThat(JSON.readTree(json).get("message").asText()).contains("artifact URI is 5012 characters");
    }

    static Artifact artifact() {
        Artifact a = new Artifact();
        a.uri = "s3://team-bucket/adapters/llama-lora";
        a.digest = "sha256:" + "ab".repeat(32);
        a.sizeBytes = 3_407_872L;
        a.format = "peft-lora";
        a.servableBy = List.of("peft", "vllm");
        return a;
    }

    static Metrics metrics() {
        Metrics m = new Metrics();
        m.trainLoss = 1.1;
        m.evalLossBefore = 2.3;
        m.evalLossAfter = 1.2;
        return m;
    }

    static MemoryUsage memory() {
        MemoryUsage m = new MemoryUsage();
        m.trainableParameters = 851_968L;
        m.totalParameters = 1_236_666_368L;
        m.optimizerStateBytes = 6_815_744L;
        return m;
    }
}
