package io.finetune.trainer.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs successful and failing operations on every credentialed scheme with known secret values and greps everything a user
 * or the operator could see (all log output, exception messages and full stack traces, toString of the environment)
 * for those values.
 */
class SecretLeakTest {
    private static final String HF_TOKEN = "hf_LeakCanary9e1b7c55d0a3";
    private static final String WRONG_SECRET = "WrongSecretLeakCanary-77aa";
    private static final String SESSION_TOKEN = "SessionTokenLeakCanary-31f0";
    @TempDir
    Path tmp;

    @Test
    void noSecretValueAppearsInLogsOrErrors() throws Exception {
        S3Server s3 = S3Server.get();
        s3.createBucket("leak-test");
        StringBuilder seen = new StringBuilder();
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream origErr = System.err;
        PrintStream origOut = System.out;
        System.setErr(new PrintStream(tee(origErr, captured), true, StandardCharsets.UTF_8));
        System.setOut(new PrintStream(tee(origOut, captured), true, StandardCharsets.UTF_8));
        List<Throwable> errors = new ArrayList<>();
        try (HubServer hub = new HubServer()) {
            hub.requiredToken = HF_TOKEN;
            hub.repo("acme/m", "main", Map.of("config.json", "{}".getBytes(StandardCharsets.UTF_8),
                    "model.safetensors", TestData.bytes(5000, 1)), Set.of("model.safetensors"));

            Map<String, String> good = new HashMap<>(s3.env());
            good.put("HF_TOKEN", HF_TOKEN);
            good.put("HF_ENDPOINT", hub.endpoint());
            StorageEnvironment goodEnv = TestData.env(good);
            seen.append(goodEnv).append('\n');
            try (Storage storage = Storage.create(tmp.resolve("c1"), goodEnv)) {
                storage.publish(TestData.model(tmp.resolve("out"), 1), "s3://leak-test/out");
                storage.fetchDirectory("s3://leak-test/out");
                storage.fetchDirectory("hf://acme/m");
                collect(errors, () -> storage.fetchDirectory("hf://acme/missing"));
                collect(errors, () -> storage.fetchFile("s3://leak-test/missing.jsonl"));
                collect(errors, () -> storage.fetchFile("s3://no-bucket/missing.jsonl"));
            }

            Map<String, String> bad = new HashMap<>(good);
            bad.put("AWS_SECRET_ACCESS_KEY", WRONG_SECRET);
            bad.put("AWS_SESSION_TOKEN", SESSION_TOKEN);
            bad.put("HF_TOKEN", "hf_" + WRONG_SECRET);
            StorageEnvironment badEnv = TestData.env(bad);
            seen.append(badEnv).append('\n');
            try (Storage storage = Storage.create(tmp.resolve("c2"), badEnv)) {
                collect(errors, () -> storage.fetchDirectory("s3://leak-test/out"));
                collect(errors, () -> storage.publish(tmp.resolve("out"), "s3://leak-test/out2"));
                collect(errors, () -> storage.fetchDirectory("hf://acme/m"));
                collect(errors, () -> storage.fetchFile("hf://acme/m/config.json"));
            }
            Map<String, String> unreachable = new HashMap<>(bad);
            try (ServerSocket s = new ServerSocket(0)) {
                unreachable.put("AWS_ENDPOINT_URL", "http://127.0.0.1:" + s.getLocalPort());
                unreachable.put("HF_ENDPOINT", "http://127.0.0.1:" + s.getLocalPort());
            }
            try (Storage storage = Storage.create(tmp.resolve("c3"), TestData.env(unreachable))) {
                collect(errors, () -> storage.fetchFile("s3://leak-test/x"));
                collect(errors, () -> storage.fetchDirectory("hf://acme/m"));
            }
        } finally {
            System.setErr(origErr);
            System.setOut(origOut);
        }
        for (Throwable t : errors) {
            StringWriter w = new StringWriter();
            t.printStackTrace(new PrintWriter(w));
            seen.append(w).append('\n');
        }
        seen.append(captured.toString(StandardCharsets.UTF_8));

        assertThat(errors).hasSize(9).allMatch(e -> e instanceof StorageException);
        // The capture really saw our logging (otherwise the grep below would prove nothing).
        assertThat(seen).contains("Published s3://leak-test/out").contains("failed (attempt 1/");
        for (String secret : List.of(S3Server.SECRET_KEY, WRONG_SECRET, SESSION_TOKEN, HF_TOKEN)) {
            assertThat(seen.indexOf(secret)).as("secret value leaked: " + secret.substring(0, 6) + "...").isEqualTo(-1);
        }
    }

    private static void collect(List<Throwable> errors, ThrowingCallable call) {
        assertThatThrownBy(call).satisfies(errors::add);
    }

    private static OutputStream tee(OutputStream a, ByteArrayOutputStream b) {
        return new OutputStream() {
            @Override
            public void write(int c) {
                b.write(c);
                try {
                    a.write(c);
                } catch (java.io.IOException ignored) {
                    // console gone; the capture is what matters
                }
            }

            @Override
            public void write(byte[] buf, int off, int len) {
                b.write(buf, off, len);
                try {
                    a.write(buf, off, len);
                } catch (java.io.IOException ignored) {
                    // console gone; the capture is what matters
                }
            }
        };
    }
}
