package io.finetune.trainer;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * Runs the trainer's command line in this JVM with System.out and System.err captured (UTF-8): what a CLI user reads,
 * for the tests of commands, errors and exit codes. Output libtorch writes to the native stderr is not captured; a
 * test of that runs a child JVM (cli/GenerateCleanOutputTest).
 */
public final class CliCapture {
    /** Exit code, stdout and stderr of one command line. */
    public record Result(int code, String out, String err) {
    }

    private CliCapture() {
    }

    public static Result run(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = Main.execute(args);
            return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }
}
