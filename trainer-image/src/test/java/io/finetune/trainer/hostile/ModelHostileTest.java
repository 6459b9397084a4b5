package io.finetune.trainer.hostile;

import static org.assertj.core.api.Assertions.assertThat;

import io.finetune.trainer.safetensors.FloatTensor;
import io.finetune.trainer.safetensors.SafetensorsWriter;
import io.finetune.trainer.train.Checkpoints;
import io.finetune.trainer.layout.FileTrees;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Broken and adversarial models and tokenizers: each one is refused with exit 3 and one error line naming the file (or
 * field), no stack trace, no file outside the output changed, and nothing read or written outside the model directory.
 */
class ModelHostileTest {
    @TempDir
    Path dir;
    Path model;
    Path data;

    /** Damages the model directory in one way. */
    @FunctionalInterface
    interface Damage {
        void apply(Path model) throws Exception;
    }

    @BeforeEach
    void inputs() throws Exception {
        model = Hostile.model(dir.resolve("model"));
        data = Hostile.data(dir.resolve("data/train.jsonl"));
    }

    static List<Arguments> cases() {
        return List.of(
                Arguments.of("weights truncated to half", (Damage) m -> truncate(m.resolve("model.safetensors"), 0.5),
                        "model.safetensors"),
                Arguments.of("weights file empty", (Damage) m -> Files.write(m.resolve("model.safetensors"), new byte[0]),
                        "model.safetensors: not a safetensors file"),
                Arguments.of("header length absurd (2^62)", (Damage) m -> patchHeaderLength(m.resolve("model.safetensors"),
                        1L << 62), "model.safetensors: header length"),
                Arguments.of("header is not JSON", (Damage) m -> replaceHeader(m.resolve("model.safetensors"), "{\"a\": [1,"),
                        "model.safetensors: header is not valid JSON"),
                Arguments.of("header lies about offsets", (Damage) m -> lieAboutOffsets(m.resolve("model.safetensors")),
                        "model.safetensors"),
                Arguments.of("NaN in a weight", (Damage) m -> poison(m, Float.NaN), "holds NaN"),
                Arguments.of("Inf in a weight", (Damage) m -> poison(m, Float.POSITIVE_INFINITY), "holds Infinity"),
                Arguments.of("shard index with ../ escape", (Damage) m -> index(m, "../data/train.jsonl"),
                        "maps to shard '../data/train.jsonl', which is not a file in"),
                Arguments.of("shard index with absolute path", (Damage) m -> index(m, "/etc/passwd"),
                        "maps to shard '/etc/passwd', which is not a file in"),
                Arguments.of("shard index not JSON", (Damage) m -> Files.writeString(m.resolve("model.safetensors.index.json"),
                        "{\"weight_map\": "), "model.safetensors.index.json: not valid JSON"),
                Arguments.of("no weights at all", (Damage) m -> Files.delete(m.resolve("model.safetensors")),
                        "no model.safetensors or model.safetensors.index.json"),
                Arguments.of("config.json missing", (Damage) m -> Files.delete(m.resolve("config.json")), "no config.json"),
                Arguments.of("config.json not JSON", (Damage) m -> Files.writeString(m.resolve("config.json"), "{\"hidden"),
                        "config.json: not valid JSON"),
                Arguments.of("config.json absurd hidden_size", (Damage) m -> editConfig(m, "\"hidden_size\" : 32",
                        "\"hidden_size\" : 1099511627776"), "config.json"),
                Arguments.of("config.json negative layers", (Damage) m -> editConfig(m, "\"num_hidden_layers\" : 2",
                        "\"num_hidden_layers\" : -2"), "num_hidden_layers"),
                Arguments.of("config.json of another architecture", (Damage) m -> editConfig(m, "\"model_type\" : \"llama\"",
                        "\"model_type\" : \"gpt2\""), "model_type 'gpt2'"),
                Arguments.of("tokenizer.json missing", (Damage) m -> Files.delete(m.resolve("tokenizer.json")),
                        "tokenizer.json: no such file"),
                Arguments.of("tokenizer.json truncated", (Damage) m -> truncate(m.resolve("tokenizer.json"), 0.5),
                        "tokenizer.json"),
                Arguments.of("tokenizer.json is binary", (Damage) m -> Files.write(m.resolve("tokenizer.json"),
                        new byte[] {0, (byte) 0xff, 0x13, 0x37}), "tokenizer.json"),
                Arguments.of("config.json vocabulary smaller than the weights", (Damage) m -> editConfig(m,
                        "\"vocab_size\" : 102", "\"vocab_size\" : 50"), "has shape [102, 32], config.json implies [50, 32]"),
                Arguments.of("model directory is a file", (Damage) m -> {
                    FileTrees.deleteTree(m);
                    Files.writeString(m, "not a directory");
                }, "no such directory"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void refusedWithOneLineAndNothingChanged(String name, Damage damage, String message) throws Exception {
        damage.apply(model);
        Path out = dir.resolve("out");
        Path manifest = Hostile.write(dir.resolve("job.yaml"),
                Hostile.job("hostile", 4, "file://" + model, "file://" + data, "file://" + out));
        Map<String, String> before = Hostile.snapshot(dir);
        Hostile.run("run", manifest.toString()).refused(3, message);
        Map<String, String> after = Hostile.snapshot(dir);
        after.keySet().removeIf(k -> k.startsWith("out/"));
        assertThat(after).as("no file outside the output changed").isEqualTo(before);
        assertThat(Hostile.snapshot(out).keySet()).as("at most the run's own marker in the output")
                .isSubsetOf(List.of("run_identity.json"));
    }

    @ParameterizedTest(name = "rank {0}: {1}")
    @org.junit.jupiter.params.provider.CsvSource({"16, 16 of model.layers.0.self_attn.v_proj (32 in, 16 out)",
            "32, 32 of model.layers.0.self_attn.q_proj (32 in, 32 out)"})
    void loraRankNotBelowTheTargetedMatrixIsRefusedNamingIt(int rank, String matrix) throws Exception {
        Path manifest = Hostile.write(dir.resolve("job.yaml"),
                Hostile.job("hostile", rank, "file://" + model, "file://" + data, "file://" + dir.resolve("out")));
        Hostile.run("run", manifest.toString()).refused(3, "spec.method.lora.rank " + rank
                + " is not below min(in, out) = " + matrix);
        assertThat(dir.resolve("out/adapter_model.safetensors")).doesNotExist();
    }

    static void truncate(Path f, double fraction) throws Exception {
        byte[] b = Files.readAllBytes(f);
        Files.write(f, Arrays.copyOf(b, (int) (b.length * fraction)));
    }

    static void patchHeaderLength(Path f, long length) throws Exception {
        byte[] b = Files.readAllBytes(f);
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, length);
        Files.write(f, b);
    }

    static void replaceHeader(Path f, String header) throws Exception {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate(8 + h.length).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(h.length).put(h);
        Files.write(f, buf.array());
    }

    /** Same header length, but every tensor claims to end 1 MiB further than the file. */
    static void lieAboutOffsets(Path f) throws Exception {
        byte[] b = Files.readAllBytes(f);
        long n = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        String header = new String(b, 8, (int) n, StandardCharsets.UTF_8);
        String lied = header.replaceFirst("\"data_offsets\":\\[(\\d+),(\\d+)\\]", "\"data_offsets\":[$1,99999999]");
        assertThat(lied).isNotEqualTo(header);
        byte[] h = lied.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate(8 + h.length + b.length - 8 - (int) n).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(h.length).put(h).put(b, 8 + (int) n, b.length - 8 - (int) n);
        Files.write(f, buf.array());
    }

    static void poison(Path m, float value) throws Exception {
        Map<String, FloatTensor> w = new TreeMap<>(Checkpoints.readTensors(m.resolve("model.safetensors")));
        FloatTensor t = w.get("model.layers.1.mlp.down_proj.weight");
        t.data()[7] = value;
        SafetensorsWriter.write(m.resolve("model.safetensors"), w);
    }

    /** A sharded index whose one shard name points outside the model directory. */
    static void index(Path m, String shard) throws Exception {
        Files.writeString(m.resolve("model.safetensors.index.json"),
                "{\"metadata\": {}, \"weight_map\": {\"model.embed_tokens.weight\": \"" + shard + "\"}}");
    }

    /** Replaces {@code "key" : value} (any spacing) in config.json. */
    static void editConfig(Path m, String from, String to) throws Exception {
        String cfg = Files.readString(m.resolve("config.json"));
        String edited = cfg.replaceFirst(from.replace(" : ", "\\s*:\\s*"), to.replace(" : ", ":"));
        assertThat(edited).as("config.json has " + from).isNotEqualTo(cfg);
        Files.writeString(m.resolve("config.json"), edited);
    }
}
