package io.finetune.trainer.pod;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * Line-buffered stream that passes each line through a {@link SecretRedactor}. Installed over System.out and System.err
 * in pod mode so that no log line (ours, DJL's, fabric8's) prints a credential, whichever logger wrote it.
 *
 * <p>A line is redacted as a whole when it ends or when the stream is explicitly flushed. The installed PrintStreams do
 * not autoflush, because autoflush flushes after every internal 8 KiB buffer and could cut a secret in two; loggers
 * flush after each complete line.
 */
public final class RedactingOutputStream extends OutputStream {
    private final OutputStream target;
    private final SecretRedactor redactor;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream(256);

    public RedactingOutputStream(OutputStream target, SecretRedactor redactor) {
        this.target = target;
        this.redactor = redactor;
    }

    /** Replaces System.out and System.err with redacting streams (UTF-8, flushed per line, see above). */
    public static void installOnStandardStreams(SecretRedactor redactor) {
        System.setOut(new PrintStream(new RedactingOutputStream(System.out, redactor), false, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(new RedactingOutputStream(System.err, redactor), false, StandardCharsets.UTF_8));
    }

    @Override
    public synchronized void write(int b) throws IOException {
        line.write(b);
        if (b == '\n') {
            emit();
            target.flush();
        }
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) throws IOException {
        for (int i = off; i < off + len; i++) {
            write(b[i]);
        }
    }

    @Override
    public synchronized void flush() throws IOException {
        emit();
        target.flush();
    }

    @Override
    public synchronized void close() throws IOException {
        flush();
        target.close();
    }

    private void emit() throws IOException {
        if (line.size() == 0) {
            return;
        }
        String text = line.toString(StandardCharsets.UTF_8);
        line.reset();
        target.write(redactor.redact(text).getBytes(StandardCharsets.UTF_8));
    }
}
