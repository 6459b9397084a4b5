package io.finetune.trainer.data;

import java.nio.file.Path;
import java.util.OptionalInt;

/**
 * A dataset the trainer cannot use. The message always starts with {@code "<file>:<line>: "} when one record is at
 * fault, and with {@code "<file>: "} when the file as a whole is (e.g. no usable record in it).
 */
public final class DatasetException extends RuntimeException {
    private final transient Path file;
    private final int line;

    private DatasetException(Path file, int line, String message) {
        super(message);
        this.file = file;
        this.line = line;
    }

    /** One record at {@code file:line} is at fault. */
    public static DatasetException atLine(Path file, int line, String what) {
        return new DatasetException(file, line, file + ":" + line + ": " + what);
    }

    /** The file as a whole is at fault. */
    public static DatasetException inFile(Path file, String what) {
        return new DatasetException(file, 0, file + ": " + what);
    }

    public Path file() {
        return file;
    }

    /** 1-based line of the faulty record, empty when the whole file is at fault. */
    public OptionalInt line() {
        return line > 0 ? OptionalInt.of(line) : OptionalInt.empty();
    }
}
