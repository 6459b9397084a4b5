package io.finetune.trainer.cli;

import ai.djl.engine.EngineException;
import io.finetune.trainer.runtime.OutOfMemory;
import io.finetune.trainer.storage.StorageException;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.util.Map;

/**
 * The CLI's one error path: every failure becomes one {@code error:} line (the file, field or URI, and what to do) and an
 * exit code by class. Stack traces only with {@code --debug} or {@code FINETUNE_DEBUG=1}.
 *
 * @param exitClass what kind of failure it is
 * @param message   one line, without the "error: " prefix
 */
public record ErrorReport(ExitClass exitClass, String message) {
    /** Environment variable that turns stack traces on, as {@code --debug} does. */
    public static final String DEBUG_ENV = "FINETUNE_DEBUG";

    /** Exit codes by class of failure (documented in the README's CLI section). */
    public enum ExitClass {
        /** A bug or a failure the user cannot fix (e.g. the native engine failed): report it. */
        INTERNAL(1),
        /** The command line: unknown command or option, a missing or malformed argument. */
        USAGE(2),
        /** The input: the manifest, model, tokenizer, dataset, a storage location or the output destination. */
        INPUT(3),
        /** The machine: out of memory (Java heap or native), no space left on the disk, storage unreachable or failing. */
        RESOURCE(4);

        private final int code;

        ExitClass(int code) {
            this.code = code;
        }

        public int code() {
            return code;
        }
    }

    /** Classifies {@code e}; never throws. */
    public static ErrorReport of(Throwable e) {
        if (e instanceof UsageException) {
            return new ErrorReport(ExitClass.USAGE, text(e));
        }
        if (OutOfMemory.causedBy(e)) {
            return new ErrorReport(ExitClass.RESOURCE, "out of memory (" + text(rootOf(e)) + "): lower"
                    + " spec.training.batchSize or spec.dataset.maxSeqLength, or give the process more memory (-Xmx for the"
                    + " Java heap)");
        }
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof FileSystemException fs && fs.getMessage() != null
                    && fs.getMessage().contains("No space left on device")) {
                return new ErrorReport(ExitClass.RESOURCE, "no space left on the device writing " + fs.getFile()
                        + ": free space there or choose another output");
            }
        }
        if (e instanceof StorageException s) {
            return new ErrorReport(s.reason().retryable() ? ExitClass.RESOURCE : ExitClass.INPUT, text(e)
                    + (s.reason().retryable() ? " (retries exhausted; try again later)" : ""));
        }
        if (e instanceof NoSuchFileException f) {
            return new ErrorReport(ExitClass.INPUT, f.getFile() + ": no such file");
        }
        if (e instanceof AccessDeniedException f) {
            return new ErrorReport(ExitClass.INPUT, f.getFile() + ": permission denied (make it readable, or writable"
                    + " for an output, by this user)");
        }
        if (e instanceof FileSystemException f) {
            return new ErrorReport(ExitClass.INPUT, f.getFile() + ": " + (f.getReason() == null ? text(e) : f.getReason()));
        }
        if (e instanceof UncheckedIOException u && u.getCause() != null) {
            return of(u.getCause());
        }
        if (e instanceof EngineException) {
            return new ErrorReport(ExitClass.INTERNAL, "the native engine (libtorch) failed: " + text(e)
                    + " (rerun with --debug and report it)");
        }
        if (e instanceof IOException || e instanceof IllegalArgumentException || e instanceof UnsupportedOperationException
                || isTrainerInputError(e)) {
            return new ErrorReport(ExitClass.INPUT, text(e));
        }
        return new ErrorReport(ExitClass.INTERNAL, "internal error: " + e.getClass().getSimpleName() + ": " + text(e)
                + " (rerun with --debug for the stack trace and report it)");
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

    /** The trainer's own input exception types (model, dataset, safetensors, unsafe output, divergence). */
    private static boolean isTrainerInputError(Throwable e) {
        String pkg = e.getClass().getName();
        return pkg.startsWith("io.finetune.") && e instanceof RuntimeException;
    }

    private static Throwable rootOf(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t;
    }

    /** The message on one line: continuation lines (e.g. a list of violations) joined with "; ". */
    static String text(Throwable e) {
        String m = e.getMessage();
        if (m == null || m.isBlank()) {
            m = e.getClass().getSimpleName();
        }
        return m.strip().replaceAll("\\s*\\R\\s*", "; ");
    }
}
