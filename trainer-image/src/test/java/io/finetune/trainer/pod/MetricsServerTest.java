package io.finetune.trainer.pod;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MetricsServerTest {
    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void scrapeReturnsTheLatestProgressAsPrometheusGauges() throws Exception {
        TrainerGauges gauges = new TrainerGauges();
        try (MetricsServer server = MetricsServer.start(new InetSocketAddress("127.0.0.1", 0), gauges)) {
            Map<String, String> before = scrape(server.port());
            assertThat(before).containsEntry("finetune_trainer_loss", "NaN");

            gauges.report(new TrainingProgress(41, 500, 0.4, 1.875, 2.0e-4, 1234.5, null).toProgress());
            gauges.report(new TrainingProgress(42, 500, 0.42, 1.75, 1.5e-4, 1300.25, null).toProgress());
            Map<String, String> after = scrape(server.port());

            // Values compared as numbers: the Prometheus client writes Java's Double.toString ("42.0"), which Prometheus
            // reads as the same sample value as "42".
            assertThat(Double.parseDouble(after.get("finetune_trainer_step"))).isEqualTo(42);
            assertThat(Double.parseDouble(after.get("finetune_trainer_total_steps"))).isEqualTo(500);
            assertThat(Double.parseDouble(after.get("finetune_trainer_loss"))).isEqualTo(1.75);
            assertThat(Double.parseDouble(after.get("finetune_trainer_learning_rate"))).isEqualTo(1.5e-4);
            assertThat(Double.parseDouble(after.get("finetune_trainer_tokens_per_second"))).isEqualTo(1300.25);
        }
    }

    @Test
    void onlyMetricsPathIsServed() throws Exception {
        try (MetricsServer server = MetricsServer.start(new InetSocketAddress("127.0.0.1", 0), new TrainerGauges())) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(404);
        }
    }

    /** Parses the exposition: every sample has HELP and TYPE gauge lines before it. */
    private Map<String, String> scrape(int port) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
        Map<String, String> samples = new HashMap<>();
        Map<String, String> types = new HashMap<>();
        for (String line : r.body().split("\n")) {
            if (line.startsWith("# TYPE ")) {
                String[] parts = line.split(" ");
                types.put(parts[2], parts[3]);
            } else if (!line.startsWith("#") && !line.isBlank()) {
                String[] parts = line.split(" ");
                assertThat(parts).hasSize(2);
                assertThat(types).as("TYPE before sample " + parts[0]).containsEntry(parts[0], "gauge");
                samples.put(parts[0], parts[1]);
            }
        }
        assertThat(samples).containsOnlyKeys("finetune_trainer_step", "finetune_trainer_total_steps",
                "finetune_trainer_loss", "finetune_trainer_tokens_per_second", "finetune_trainer_learning_rate");
        return samples;
    }
}
