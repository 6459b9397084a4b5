package io.finetune.e2e;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Scrapes a running trainer's Prometheus endpoint as Prometheus would, while the pod trains: the port comes from the
 * trainer's log line "metrics on port N" (the fake node gives each trainer a free port instead of the pod's 9400). Keeps the
 * last exposition that showed at least one optimizer step.
 */
final class MetricsScraper implements AutoCloseable {
    private static final Pattern PORT = Pattern.compile("metrics on port (\\d+)");
    private static final Pattern STEP = Pattern.compile("(?m)^finetune_trainer_step (\\d+(?:\\.\\d+)?)");

    private final Thread thread;
    private volatile boolean stop;
    private volatile String lastWithSteps;
    private volatile int scrapes;

    MetricsScraper(Supplier<Optional<Path>> trainerLog) {
        this.thread = new Thread(() -> run(trainerLog), "metrics-scraper");
        thread.setDaemon(true);
        thread.start();
    }

    private void run(Supplier<Optional<Path>> trainerLog) {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        Integer port = null;
        while (!stop) {
            try {
                if (port == null) {
                    Optional<Path> log = trainerLog.get();
                    if (log.isPresent() && Files.exists(log.get())) {
                        Matcher m = PORT.matcher(Files.readString(log.get()));
                        port = m.find() ? Integer.valueOf(m.group(1)) : null;
                    }
                } else {
                    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                            .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
                    scrapes++;
                    Matcher m = STEP.matcher(r.body());
                    if (r.statusCode() == 200 && m.find() && Double.parseDouble(m.group(1)) >= 1) {
                        lastWithSteps = r.body();
                    }
                }
                Thread.sleep(200);
            } catch (InterruptedException e) {
                return;
            } catch (Exception e) {
                // not up yet, or the trainer has exited: keep trying until closed
            }
        }
    }

    /** The last scrape that reported a step, or null. */
    String lastWithSteps() {
        return lastWithSteps;
    }

    int scrapes() {
        return scrapes;
    }

    @Override
    public void close() throws InterruptedException {
        stop = true;
        thread.interrupt();
        thread.join(5000);
    }
}
