package io.finetune.trainer.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** hf://org/name[@revision] against a local server with the hub's URL layout, LFS redirects and token checks. */
class HfStorageTest {
    private static final String TOKEN = "hf_TestTokenValue0123456789abcdef";
    @TempDir
    Path tmp;
    private HubServer hub;
    private final byte[] weightsMain = TestData.bytes(120_000, 1);
    private final byte[] weightsV1 = TestData.bytes(90_000, 2);

    @BeforeEach
    void start() throws Exception {
        hub = new HubServer();
        hub.requiredToken = TOKEN;
        hub.repo("acme/tiny-llama", "main", Map.of(
                "config.json", "{\"rev\": \"main\"}".getBytes(StandardCharsets.UTF_8),
                "model.safetensors", weightsMain,
                "tokenizer/tokenizer.json", "{}".getBytes(StandardCharsets.UTF_8)), Set.of("model.safetensors"));
        hub.repo("acme/tiny-llama", "v1", Map.of(
                "config.json", "{\"rev\": \"v1\"}".getBytes(StandardCharsets.UTF_8),
                "model.safetensors", weightsV1,
                "data/train.jsonl", "{\"text\": \"hi\"}\n".getBytes(StandardCharsets.UTF_8)), Set.of("model.safetensors"));
    }

    @AfterEach
    void stop() {
        hub.close();
    }

    private Storage storage(String token) {
        return Storage.create(tmp.resolve("cache"), TestData.env(token == null ? Map.of("HF_ENDPOINT", hub.endpoint())
                : Map.of("HF_ENDPOINT", hub.endpoint(), "HF_TOKEN", token)));
    }

    @Test
    void fetchesEachRevisionWithTheTokenAndKeepsTheTokenAwayFromTheCdn() throws Exception {
        try (Storage storage = storage(TOKEN)) {
            Path main = storage.fetchDirectory("hf://acme/tiny-llama");
            Path v1 = storage.fetchDirectory("hf://acme/tiny-llama@v1");

            assertThat(Files.readString(main.resolve("config.json"))).isEqualTo("{\"rev\": \"main\"}");
            assertThat(Files.readAllBytes(main.resolve("model.safetensors"))).isEqualTo(weightsMain);
            assertThat(main.resolve("tokenizer/tokenizer.json")).exists();
            assertThat(Files.readString(v1.resolve("config.json"))).isEqualTo("{\"rev\": \"v1\"}");
            assertThat(Files.readAllBytes(v1.resolve("model.safetensors"))).isEqualTo(weightsV1);
            assertThat(hub.hubRequests).contains("/api/models/acme/tiny-llama/revision/main",
                    "/acme/tiny-llama/resolve/v1/model.safetensors");
            assertThat(hub.cdnAuthorization).hasSize(2).allMatch(String::isEmpty);

            Path data = storage.fetchFile("hf://acme/tiny-llama@v1/data/train.jsonl");
            assertThat(Files.readString(data)).isEqualTo("{\"text\": \"hi\"}\n");
        }
    }

    @Test
    void datasetReposUseTheDatasetsLayout() throws Exception {
        hub.repo("datasets/acme/support", "v2", Map.of("train.jsonl", "{\"text\": \"ds\"}\n".getBytes(StandardCharsets.UTF_8)),
                Set.of());
        try (Storage storage = storage(TOKEN)) {
            Path data = storage.fetchFile("hf://datasets/acme/support@v2/train.jsonl");
            assertThat(Files.readString(data)).isEqualTo("{\"text\": \"ds\"}\n");
            assertThat(hub.hubRequests).contains("/api/datasets/acme/support/revision/v2",
                    "/datasets/acme/support/resolve/v2/train.jsonl");
            assertThatThrownBy(() -> storage.fetchFile("hf://acme/support@v2/train.jsonl"))
                    .isInstanceOfSatisfying(StorageException.class,
                            e -> assertThat(e.reason()).isEqualTo(StorageException.Reason.NOT_FOUND));
        }
    }

    @Test
    void aSecondFetchIsServedFromTheVerifiedCache() throws Exception {
        try (Storage storage = storage(TOKEN)) {
            storage.fetchDirectory("hf://acme/tiny-llama@main");
            int before = hub.hubRequests.size();
            storage.fetchDirectory("hf://acme/tiny-llama@main");
            assertThat(hub.hubRequests.subList(before, hub.hubRequests.size()))
                    .containsExactly("/api/models/acme/tiny-llama/revision/main");
        }
    }

    @Test
    void missingOrWrongTokenIsAccessDeniedAndSaysSo() {
        try (Storage storage = storage(null)) {
            assertThatThrownBy(() -> storage.fetchDirectory("hf://acme/tiny-llama"))
                    .isInstanceOfSatisfying(StorageException.class, e -> {
                        assertThat(e.reason()).isEqualTo(StorageException.Reason.ACCESS_DENIED);
                        assertThat(e.getMessage()).startsWith("hf://acme/tiny-llama: ").contains("without a token");
                    });
        }
        try (Storage storage = storage("hf_wrong")) {
            assertThatThrownBy(() -> storage.fetchDirectory("hf://acme/tiny-llama@v1"))
                    .isInstanceOfSatisfying(StorageException.class, e -> {
                        assertThat(e.reason()).isEqualTo(StorageException.Reason.ACCESS_DENIED);
                        assertThat(e.getMessage()).contains("with the configured HF_TOKEN");
                    });
        }
    }

    @Test
    void unknownRepoRevisionOrFileIsNotFound() {
        try (Storage storage = storage(TOKEN)) {
            for (String uri : new String[] {"hf://acme/no-such-model", "hf://acme/tiny-llama@v9"}) {
                assertThatThrownBy(() -> storage.fetchDirectory(uri)).isInstanceOfSatisfying(StorageException.class, e -> {
                    assertThat(e.reason()).isEqualTo(StorageException.Reason.NOT_FOUND);
                    assertThat(e.getMessage()).startsWith(uri + ": ");
                });
            }
            assertThatThrownBy(() -> storage.fetchFile("hf://acme/tiny-llama/nope.bin"))
                    .isInstanceOfSatisfying(StorageException.class, e -> {
                        assertThat(e.reason()).isEqualTo(StorageException.Reason.NOT_FOUND);
                        assertThat(e.getMessage()).startsWith("hf://acme/tiny-llama/nope.bin: ");
                    });
        }
    }

    @Test
    void lfsBytesThatDoNotMatchTheirSha256AreRejected() {
        hub.corruptBlobs = true;
        try (Storage storage = storage(TOKEN)) {
            assertThatThrownBy(() -> storage.fetchDirectory("hf://acme/tiny-llama"))
                    .isInstanceOfSatisfying(StorageException.class, e -> {
                        assertThat(e.reason()).isEqualTo(StorageException.Reason.INTEGRITY);
                        assertThat(e.getMessage()).startsWith("hf://acme/tiny-llama/model.safetensors: ")
                                .contains("sha256 mismatch");
                    });
        }
        assertThat(tmp.resolve("cache")).isDirectory();
    }
}
