package io.finetune.trainer.run;

import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.api.v1alpha1.FineTuneJobSpec;
import io.finetune.api.v1alpha1.TrainingSpec;
import io.finetune.trainer.layout.RunLayout;
import io.finetune.trainer.storage.Manifest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Who wrote a checkpoint or an output directory: the job (name, namespace and uid where there is one) and a hash of
 * everything that determines the training trajectory (model and tokenizer fingerprints, dataset digests, the dataset,
 * method and training settings, seed). Written as {@value RunLayout#RUN_IDENTITY} next to each checkpoint and at the output's root,
 * so a run resumes only what a run with the same trajectory wrote, never another job's checkpoint (LoRA on LoRA).
 *
 * @param components what the trajectory hash covers, by name (shown in a refusal: which part differs)
 */
public record RunIdentity(String jobName, String jobNamespace, String jobUid, String trajectory,
                          Map<String, String> components) {
    private static final ObjectMapper CANONICAL = JsonMapper.builder()
            .enable(MapperFeature.SORT_PROPERTIES_ALPHABETICALLY)
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
            .build().findAndRegisterModules();
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public RunIdentity {
        components = new TreeMap<>(components);
    }

    /**
     * The identity of {@code job} trained on {@code inputs}. Datasets are hashed whole (sha256); a model directory by its
     * manifest.json when it is a published artifact, else by config.json, tokenizer.json and every weight file's name and
     * size (hashing many GB of weights would cost minutes per start).
     */
    public static RunIdentity of(FineTuneJob job, TrainingRun.Inputs inputs, String uid) throws IOException {
        FineTuneJobSpec spec = job.getSpec();
        Map<String, String> c = new TreeMap<>();
        c.put("model.source", spec.model.source);
        c.put("model.fingerprint", directoryFingerprint(inputs.modelDir()));
        c.put("tokenizer.fingerprint", directoryFingerprint(inputs.tokenizerDir()));
        c.put("dataset.source", spec.dataset.source);
        c.put("dataset.sha256", sha256(inputs.trainFile()));
        if (inputs.evalFile() != null) {
            c.put("dataset.evalSource", spec.dataset.evalSource);
            c.put("dataset.evalSha256", sha256(inputs.evalFile()));
        }
        c.put("dataset.settings", canonical(Map.of("format", String.valueOf(spec.dataset.format),
                "evalFraction", String.valueOf(spec.dataset.evalFraction), "maxSeqLength", String.valueOf(spec.dataset.maxSeqLength),
                "packing", String.valueOf(spec.dataset.packing), "invalidRecords", String.valueOf(spec.dataset.invalidRecords),
                "overlongRecords", String.valueOf(spec.dataset.overlongRecords))));
        c.put("method", canonical(spec.method));
        c.put("training", canonical(trajectorySettings(spec.training)));
        String uidValue = uid != null && !uid.isBlank() ? uid : job.getMetadata().getUid();
        return new RunIdentity(job.getMetadata().getName(), job.getMetadata().getNamespace(), uidValue,
                "sha256:" + sha256(canonical(c).getBytes(StandardCharsets.UTF_8)), c);
    }

    /** Logging, checkpoint cadence and retention do not change the trajectory; everything else of spec.training does. */
    private static TrainingSpec trajectorySettings(TrainingSpec t) {
        TrainingSpec copy = CANONICAL.convertValue(t, TrainingSpec.class);
        copy.logEverySteps = null;
        copy.checkpointEverySteps = null;
        copy.keepCheckpoints = null;
        return copy;
    }

    /** Whether a run with this identity may resume what {@code other} wrote: the same job name and trajectory. */
    public boolean canResume(RunIdentity other) {
        return Objects.equals(jobName, other.jobName) && Objects.equals(trajectory, other.trajectory);
    }

    /** The components whose values differ (names only; values may be long). */
    public List<String> differences(RunIdentity other) {
        List<String> out = new ArrayList<>();
        TreeMap<String, String> all = new TreeMap<>(components);
        other.components.forEach(all::putIfAbsent);
        for (String k : all.keySet()) {
            if (!Objects.equals(components.get(k), other.components.get(k))) {
                out.add(k);
            }
        }
        return out;
    }

    /** "FineTuneJob ns/name (uid u)" for messages. */
    public String owner() {
        return "FineTuneJob " + (jobNamespace == null ? "" : jobNamespace + "/") + jobName
                + (jobUid == null ? "" : " (uid " + jobUid + ")");
    }

    public byte[] toBytes() {
        try {
            return JSON.writeValueAsBytes(this);
        } catch (IOException e) {
            throw new IllegalStateException("cannot serialise the run identity", e);
        }
    }

    public void write(Path dir) throws IOException {
        Files.write(RunLayout.identityIn(dir), toBytes());
    }

    /** Parses a marker; {@code origin} names it in the error. */
    public static RunIdentity parse(byte[] bytes, String origin) throws IOException {
        try {
            RunIdentity id = JSON.readValue(bytes, RunIdentity.class);
            if (id.jobName() == null || id.trajectory() == null) {
                throw new IOException(origin + ": not a run identity (jobName and trajectory are required)");
            }
            return id;
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new IOException(origin + ": not a valid run identity file: " + e.getOriginalMessage(), e);
        }
    }

    static String directoryFingerprint(Path dir) throws IOException {
        Path manifest = dir.resolve(RunLayout.MANIFEST);
        if (Files.isRegularFile(manifest)) {
            return "manifest:" + sha256(manifest);
        }
        StringBuilder sb = new StringBuilder();
        for (String f : List.of("config.json", "tokenizer.json", "tokenizer_config.json")) {
            Path p = dir.resolve(f);
            if (Files.isRegularFile(p)) {
                sb.append(f).append('=').append(sha256(p)).append('\n');
            }
        }
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : files.filter(Files::isRegularFile).sorted().toList()) {
                String name = p.getFileName().toString();
                if (name.endsWith(".safetensors") || name.endsWith(".bin") || name.endsWith(".index.json")) {
                    sb.append(name).append(':').append(Files.size(p)).append('\n');
                }
            }
        }
        return sha256(sb.toString().getBytes(StandardCharsets.UTF_8));
    }

    private static String canonical(Object value) {
        try {
            return CANONICAL.writeValueAsString(value);
        } catch (IOException e) {
            throw new IllegalStateException("cannot serialise " + value, e);
        }
    }

    private static String sha256(Path file) throws IOException {
        return Manifest.sha256(file);
    }

    private static String sha256(byte[] bytes) {
        return HexFormat.of().formatHex(digest().digest(bytes));
    }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("JDK without SHA-256", e);
        }
    }
}
