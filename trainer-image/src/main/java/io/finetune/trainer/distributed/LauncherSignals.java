package io.finetune.trainer.distributed;

import java.util.ArrayList;
import java.util.List;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * The launcher's SIGTERM and SIGINT handlers, installed only while a {@link Launcher} runs: both become
 * {@link Launcher#stop}, which sends SIGTERM to every child (each checkpoints and exits 75). They replace, for that time,
 * the trainer's own SIGTERM handler ({@code train.StopRequest}, installed by {@code Main} for a process that trains), which
 * in a launcher would only set a flag no training loop reads; {@link #close} puts the previous handlers back.
 */
public final class LauncherSignals implements AutoCloseable {
    private static final List<String> SIGNALS = List.of("TERM", "INT");

    private final List<Signal> signals = new ArrayList<>();
    private final List<SignalHandler> previous = new ArrayList<>();

    private LauncherSignals() {
    }

    /** Routes SIGTERM and SIGINT to {@code launcher.stop}; a platform without one of them keeps its default for it. */
    public static LauncherSignals install(Launcher launcher) {
        LauncherSignals installed = new LauncherSignals();
        for (String name : SIGNALS) {
            try {
                Signal signal = new Signal(name);
                SignalHandler before = Signal.handle(signal, s -> launcher.stop("SIG" + s.getName()));
                installed.signals.add(signal);
                installed.previous.add(before);
            } catch (IllegalArgumentException e) {
                // no such signal here, or the JVM reserves it (-Xrs): the default stays
            }
        }
        return installed;
    }

    @Override
    public void close() {
        for (int i = 0; i < signals.size(); i++) {
            Signal.handle(signals.get(i), previous.get(i));
        }
    }
}
