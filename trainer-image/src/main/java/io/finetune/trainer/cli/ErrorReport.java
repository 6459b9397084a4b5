package io.finetune.trainer.cli;

import io.finetune.trainer.failure.ExitClass;
import io.finetune.trainer.failure.Failure;
import java.io.PrintStream;
import java.util.Map;

/**
 * The CLI's one error path: every failure becomes one {@code error:} line (the file, field or URI, and what to do) and an
 * exit code by class, both from {@link Failure#of} (the classification the pod uses too). Stack traces only with
 * {@code --debug} or {@code FINETUNE_DEBUG=1}.
 *
 * @param exitClass what kind of failure it is
 * @param message   one line, without the "error: " prefix
 */
public record ErrorReport(ExitClass exitClass, String message) {
    /** Environment variable that turns stack traces on, as {@code --debug} does. */
    public static final String DEBUG_ENV = "FINETUNE_DEBUG";

    /** Classifies {@code e}; never throws. */
    public static ErrorReport of(Throwable e) {
        Failure f = Failure.of(e);
        return new ErrorReport(f.exitClass(), f.message());
    }

    /** Prints the line (and the stack trace when debugging); returns the exit code. */
    public int print(Throwable e, PrintStream err, boolean debug) {
        err.println("error: " + message);
        if (debug) {
            e.printStackTrace(err);
        }
        return exitClass.code();
    }

    public static boolean debugFromEnv(Map<String, String> env) {
        String v = env.getOrDefault(DEBUG_ENV, "");
        return v.equals("1") || v.equalsIgnoreCase("true");
    }

    /** The message on one line: continuation lines (e.g. a list of violations) joined with "; ". */
    static String text(Throwable e) {
        return Failure.text(e);
    }
}
