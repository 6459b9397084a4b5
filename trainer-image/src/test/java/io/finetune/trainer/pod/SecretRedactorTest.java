package io.finetune.trainer.pod;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SecretRedactorTest {
    private static final Map<String, String> ENV = Map.of(
            "AWS_ACCESS_KEY_ID", "AKIAEXAMPLEKEY123",
            "AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "AWS_SESSION_TOKEN", "FwoGZXIvYXdzEXAMPLEsession",
            "HF_TOKEN", "hf_abcdefghijklmnopqrstuvwxyz0123",
            "AWS_REGION", "eu-west-1");

    private final SecretRedactor redactor = SecretRedactor.fromEnv(ENV);

    @Test
    void credentialValuesNeverSurviveAndTheMarkerNamesTheVariable() {
        String text = "s3 auth failed for key AKIAEXAMPLEKEY123 secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY "
                + "session FwoGZXIvYXdzEXAMPLEsession; hub token hf_abcdefghijklmnopqrstuvwxyz0123 in eu-west-1";
        String out = redactor.redact(text);
        ENV.forEach((k, v) -> {
            if (!k.equals("AWS_REGION")) {
                assertThat(out).doesNotContain(v);
            }
        });
        assertThat(out).contains("<redacted:AWS_SECRET_ACCESS_KEY>").contains("<redacted:HF_TOKEN>")
                .contains("eu-west-1").startsWith("s3 auth failed for key <redacted:AWS_ACCESS_KEY_ID>");
    }

    @Test
    void credentialsInsideUrlsAreRemovedWhateverTheirValue() {
        SecretRedactor none = SecretRedactor.fromEnv(Map.of());
        assertThat(none.redact("GET https://alice:s3cr3t@models.example.com/llama failed"))
                .isEqualTo("GET https://<redacted>@models.example.com/llama failed");
        assertThat(none.redact("https://b.s3.amazonaws.com/x?X-Amz-Credential=AKIA%2F2024&X-Amz-Signature=abcdef0123&x=1"))
                .isEqualTo("https://b.s3.amazonaws.com/x?X-Amz-Credential=<redacted>&X-Amz-Signature=<redacted>&x=1");
        assertThat(none.redact("Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.payload.sig"))
                .isEqualTo("Authorization: Bearer <redacted>");
        assertThat(none.redact("token hf_ZYXWVUTSRQPONMLKJIHGFEDCBA98 rejected")).isEqualTo("token <redacted> rejected");
        assertThat(none.redact("pvc://models/llama-3.2-1b")).isEqualTo("pvc://models/llama-3.2-1b");
        assertThat(none.redact(null)).isNull();
    }

    @Test
    void standardStreamsPrintNoSecretEvenAcrossPartialWrites() {
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(new RedactingOutputStream(sink, redactor), false, StandardCharsets.UTF_8);
        out.print("loading with HF_TOKEN=hf_abcdefghij");
        out.print("klmnopqrstuvwxyz0123");   // the secret arrives in two writes of one line
        out.println(" done");
        out.println("second line é");
        out.flush();

        String printed = sink.toString(StandardCharsets.UTF_8);
        assertThat(printed).doesNotContain("hf_abcdefghijklmnopqrstuvwxyz0123")
                .isEqualTo("loading with HF_TOKEN=<redacted:HF_TOKEN> done" + System.lineSeparator()
                        + "second line é" + System.lineSeparator());
    }
}
