package io.finetune.trainer.distributed;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * Copies one child stream to the launcher's, a whole line at a time with the child's {@code [rank i] } prefix: each line is
 * one {@link PrintStream#println(String)}, which holds the stream's lock, so lines of different ranks never mix inside a
 * line. A daemon thread, so a stream a grandchild keeps open cannot keep the launcher alive.
 */
final class LineForwarder {
    private final Thread thread;

    private LineForwarder(Thread thread) {
        this.thread = thread;
    }

    static LineForwarder start(int rank, InputStream from, PrintStream to) {
        String prefix = "[rank " + rank + "] ";
        Thread t = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(from, StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    to.println(prefix + line);
                }
            } catch (IOException e) {
                to.println(prefix + "(output lost: " + e.getMessage() + ")");
            }
            to.flush();
        }, "rank-" + rank + "-output");
        t.setDaemon(true);
        t.start();
        return new LineForwarder(t);
    }

    /** Waits until the child's stream ended and its last line was written, at most {@code millis}. */
    void await(long millis) throws InterruptedException {
        thread.join(millis);
    }
}
