package io.finetune.trainer.hostile;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Hostile datasets and manifests through the real {@code run} command: exit 3 with one error line naming the file (and
 * line where there is one), no stack trace, and no existing file changed.
 */
class InputFileHostileTest {
    @TempDir
    Path dir;
    Path model;
    Path out;

    @BeforeEach
    void inputs() throws Exception {
        model = Hostile.model(dir.resolve("model"));
        out = dir.resolve("out");
    }

    static String nested(int depth) {
        return "{\"prompt\": " + "[".repeat(depth) + "]".repeat(depth) + ", \"completion\": \"x\"}\n";
    }

    static List<Arguments> datasets() {
        String ok = "{\"prompt\": \"12=\", \"completion\": \"21\"}\n";
        return List.of(
                Arguments.of("malformed JSON on line 2", (ok + "{\"prompt\": \"1=\",\n").getBytes(StandardCharsets.UTF_8),
                        "prompt-completion", "train.jsonl:2"),
                Arguments.of("invalid UTF-8", concat(ok.getBytes(StandardCharsets.UTF_8),
                        new byte[] {'{', '"', 'p', (byte) 0xC3, (byte) 0x28, '"', '}', '\n'}), "prompt-completion",
                        "train.jsonl:2"),
                Arguments.of("NUL bytes inside a line", (ok + "{\"prompt\": \"a\u0000b\", \"completion\" \u0000}\n")
                        .getBytes(StandardCharsets.UTF_8), "prompt-completion", "train.jsonl:2"),
                Arguments.of("a JSON array instead of JSON lines", ("[" + ok.strip() + ", " + ok.strip() + "]\n")
                        .getBytes(StandardCharsets.UTF_8), "prompt-completion", "train.jsonl:1"),
                Arguments.of("nesting 100000 levels deep", (ok + nested(100_000)).getBytes(StandardCharsets.UTF_8),
                        "prompt-completion", "train.jsonl:2"),
                Arguments.of("empty file", new byte[0], "prompt-completion", "train.jsonl"),
                Arguments.of("prompt is a number", (ok + "{\"prompt\": 12, \"completion\": \"21\"}\n")
                        .getBytes(StandardCharsets.UTF_8), "prompt-completion", "train.jsonl:2"),
                Arguments.of("chat role the template does not know",
                        chat("user", "assistant").concat(chat("narrator", "assistant")).getBytes(StandardCharsets.UTF_8), "chat",
                        "train.jsonl:2: messages[0]: role 'narrator' is not one the chat template knows"),
                Arguments.of("misspelt assistant role", chat("user", "assistant").concat(chat("user", "asistant"))
                        .getBytes(StandardCharsets.UTF_8), "chat", "train.jsonl:2: \"messages\" has no assistant message"),
                Arguments.of("tool role with a template without tools",
                        chat("user", "assistant").concat(chat("tool", "assistant")).getBytes(StandardCharsets.UTF_8), "chat",
                        "role 'tool' is not one the chat template knows [system, user, assistant]"));
    }

    static String chat(String role1, String role2) {
        return "{\"messages\": [{\"role\": \"" + role1 + "\", \"content\": \"12=\"}, {\"role\": \"" + role2
                + "\", \"content\": \"21\"}]}\n";
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @ParameterizedTest(name = "dataset: {0}")
    @MethodSource("datasets")
    void hostileDatasetsAreRefused(String name, byte[] content, String format, String message) throws Exception {
        Path data = dir.resolve("data/train.jsonl");
        Files.createDirectories(data.getParent());
        Files.write(data, content);
        Path manifest = Hostile.write(dir.resolve("job.yaml"), Hostile.job("hostile", 4, "file://" + model, "file://" + data,
                "file://" + out).replace("format: prompt-completion", "format: " + format));
        Map<String, String> before = Hostile.snapshot(dir);
        Hostile.run("run", manifest.toString()).refused(3, message);
        Map<String, String> after = Hostile.snapshot(dir);
        after.keySet().removeIf(k -> k.startsWith("out/"));
        assertThat(after).isEqualTo(before);
        assertThat(out.resolve("adapter_model.safetensors")).doesNotExist();
    }

    @Test
    void unknownRolesAreSkippedAndCountedUnderTheSkipPolicy() throws Exception {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 20; i++) {
            sb.append(chat("user", "assistant"));
        }
        sb.append(chat("narrator", "assistant"));
        Path data = Hostile.write(dir.resolve("data/chat.jsonl"), sb.toString());
        Path manifest = Hostile.write(dir.resolve("job.yaml"), Hostile.job("chat-skip", 4, "file://" + model,
                "file://" + data, "file://" + out).replace("format: prompt-completion", "format: chat\n    invalidRecords: Skip"));
        Hostile.Outcome o = Hostile.run("run", manifest.toString());
        assertThat(o.code()).as(o.err()).isZero();
        assertThat(Files.readString(out.resolve("training_summary.json"))).containsPattern("\"skippedInvalid\"\\s*:\\s*1");
    }

    static List<Arguments> manifests() {
        String job = Hostile.job("m", 4, "file:///nonexistent/model", "file:///nonexistent/data.jsonl", "file:///nonexistent/o");
        String laughs = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                + "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                + "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n";
        return List.of(
                Arguments.of("two documents", job + "---\n" + job.replace("name: m", "name: n"), "holds 2 YAML documents"),
                Arguments.of("a Pod", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: []}\n",
                        "this is a Pod, not a FineTuneJob"),
                Arguments.of("no kind", job.replace("kind: FineTuneJob\n", ""), "kind is missing"),
                Arguments.of("another apiVersion", job.replace("finetune.io/v1alpha1", "finetune.io/v1"), "apiVersion is"),
                Arguments.of("binary garbage", "\u0000\u0001\u0002PK\u0003\u0004", "job.yaml"),
                Arguments.of("billion laughs (alias bomb)", laughs, "job.yaml"),
                Arguments.of("unknown field", job.replace("  method:", "  methd: {}\n  method:"), "unknown field 'methd'"),
                Arguments.of("tab-indented YAML", job.replace("  model:", "\tmodel:"), "job.yaml"));
    }

    @ParameterizedTest(name = "manifest: {0}")
    @MethodSource("manifests")
    void hostileManifestsAreRefused(String name, String text, String message) throws Exception {
        Path manifest = Hostile.write(dir.resolve("job.yaml"), text);
        Map<String, String> before = Hostile.snapshot(dir);
        Hostile.run("run", manifest.toString()).refused(3, message);
        assertThat(Hostile.snapshot(dir)).isEqualTo(before);
    }

    @Test
    void aManifestThatIsADirectoryOrMissingIsAUsageError() throws Exception {
        Hostile.run("run", dir.toString()).refused(2, "does not exist");
        Hostile.run("run", dir.resolve("nope.yaml").toString()).refused(2, "does not exist");
    }
}
