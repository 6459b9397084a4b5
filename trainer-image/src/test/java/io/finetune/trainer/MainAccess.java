package io.finetune.trainer;

/** Lets tests in other packages run the CLI in-process (Main.execute is package-private). */
public final class MainAccess {
    private MainAccess() {
    }

    public static int execute(String... args) {
        return Main.execute(args);
    }
}
