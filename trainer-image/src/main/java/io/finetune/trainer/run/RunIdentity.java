package io.finetune.trainer.run;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.finetune.trainer.layout.RunLayout;
import io.finetune.trainer.spec.RunSpec;
import io.finetune.trainer.spec.TrainingSettings;
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
 * @param worldSize  the data-parallel processes that wrote it (recorded, not hashed: the global batch is); null in files
 *                   written before it was recorded
 */
public record RunIdentity(String jobName, String jobNamespace, String jobUid, String trajectory,
                          Map<String, String> components, Integer worldSize) {
    public static final String FILE_NAME = "run_identity.json";
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
    public static RunIdentity of(RunSpec spec, TrainingRun.Inputs inputs, int worldSize) throws IOException {
        Map<String, String> c = new TreeMap<>();
        c.put("model.source", spec.sources().model());
        c.put("model.fingerprint", directoryFingerprint(inputs.modelDir()));
        c.put("tokenizer.fingerprint", directoryFingerprint(inputs.tokenizerDir()));
        c.put("dataset.source", spec.sources().dataset());
        c.put("dataset.sha256", sha256(inputs.trainFile()));
        if (inputs.evalFile() != null) {
            c.put("dataset.evalSource", spec.sources().evalDataset());
            c.put("dataset.evalSha256", sha256(inputs.evalFile()));
        }
        c.put("dataset.settings", canonical(spec.data()));
        c.put("method", canonical(spec.method()));
        c.put("training", canonical(trajectorySettings(spec.training())));
        // What the trajectory depends on is the global batch, not how it is split: a checkpoint written by 2 ranks x 4
        // resumes on 1 x 8, and a change of world size that changes the global batch is refused naming this component.
        c.put("training.globalBatchSize", Integer.toString(spec.training().batchSize() * worldSize));
        RunSpec.JobRef job = spec.job();
        return new RunIdentity(job.name(), job.namespace(), job.uid(),
                "sha256:" + sha256(canonical(c).getBytes(StandardCharsets.UTF_8)), c, worldSize);
    }

    /** Logging, checkpoint cadence and retention do not change the trajectory; everything else of spec.training does. */
    private static Map<String, Object> trajectorySettings(TrainingSettings t) {
        Map<String, Object> m = new TreeMap<>(CANONICAL.convertValue(t, new TypeReference<Map<String, Object>>() { }));
        m.remove("logEverySteps");
        m.remove("checkpointEverySteps");
        m.remove("keepCheckpoints");
        m.remove("batchSize"); // as training.globalBatchSize
        return m;
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
