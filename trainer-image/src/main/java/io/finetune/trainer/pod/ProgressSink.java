package io.finetune.trainer.pod;

import io.finetune.api.v1alpha1.Progress;
import java.util.List;

/**
 * Where the training loop sends its progress. {@link #report} is called on the training thread after every optimizer step
 * and must return at once: implementations never block on I/O and never throw.
 */
public interface ProgressSink extends AutoCloseable {

    /** Takes the latest progress; an implementation may keep only the newest value. */
    void report(Progress progress);

    /** Delivers the last reported value (bounded wait) and releases resources. Never throws. */
    @Override
    void close();

    /** A sink that drops everything (local runs without a cluster). */
    static ProgressSink none() {
        return new ProgressSink() {
            @Override
            public void report(Progress progress) {
            }

            @Override
            public void close() {
            }
        };
    }

    /** Sends every report to each sink in order; closes them in reverse order. */
    static ProgressSink fanOut(ProgressSink... sinks) {
        List<ProgressSink> all = List.of(sinks);
        return new ProgressSink() {
            @Override
            public void report(Progress progress) {
                all.forEach(s -> s.report(progress));
            }

            @Override
            public void close() {
                for (int i = all.size() - 1; i >= 0; i--) {
                    all.get(i).close();
                }
            }
        };
    }
}
