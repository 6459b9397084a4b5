package io.finetune.trainer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.EngineException;
import io.finetune.trainer.failure.ExitClass;
import io.finetune.trainer.failure.UsageException;
import io.finetune.trainer.storage.StorageException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** One error line and an exit code by class for every kind of failure; traces only on request. */
class ErrorPathTest {
    @Test
    void failuresMapToTheirExitClassWithOneLine() {
        record Case(Throwable error, ExitClass exitClass, String text) {
        }
        List<Case> cases = List.of(
                new Case(new UsageException("run: --output needs a value"), ExitClass.USAGE, "--output needs a value"),
                new Case(new NoSuchFileException("/data/x.jsonl"), ExitClass.INPUT, "/data/x.jsonl: no such file"),
                new Case(new AccessDeniedException("/models/m/config.json"), ExitClass.INPUT,
                        "/models/m/config.json: permission denied"),
                new Case(new IOException("/m/tokenizer.json: the tokenizers library cannot load it: bad"),
                        ExitClass.INPUT, "/m/tokenizer.json"),
                new Case(new StorageException(StorageException.Reason.NOT_FOUND, "s3://b/k", "no such key"),
                        ExitClass.INPUT, "s3://b/k: no such key"),
                new Case(new StorageException(StorageException.Reason.SERVER_ERROR, "s3://b/k", "HTTP 503"),
                        ExitClass.RESOURCE, "retries exhausted"),
                new Case(new OutOfMemoryError("Java heap space"), ExitClass.RESOURCE, "out of memory (Java heap"),
                new Case(new EngineException("DefaultCPUAllocator: can't allocate memory: you tried to allocate 9 GB"),
                        ExitClass.RESOURCE, "out of memory"),
                new Case(new FileSystemException("/out/a.safetensors", null, "No space left on device"),
                        ExitClass.RESOURCE, "no space left on the device writing /out/a.safetensors"),
                new Case(new EngineException("index out of range in self"), ExitClass.INTERNAL,
                        "the native engine (libtorch) failed: index out of range"),
                new Case(new IllegalArgumentException("job.yaml: invalid FineTuneJob 't'\n  spec.a: bad\n  spec.b: bad"),
                        ExitClass.INPUT, "job.yaml: invalid FineTuneJob 't'; spec.a: bad; spec.b: bad"),
                new Case(new NullPointerException(), ExitClass.INTERNAL, "internal error: NullPointerException"));
        for (Case c : cases) {
            ErrorReport r = ErrorReport.of(c.error());
            assertThat(r.exitClass()).as(c.error().toString()).isEqualTo(c.exitClass());
            assertThat(r.message()).as(c.error().toString()).contains(c.text()).doesNotContain("\n");
        }
        assertThat(ExitClass.values()).extracting(ExitClass::code).containsExactly(1, 2, 3, 4);
    }

    @Test
    void stackTraceOnlyWhenDebugging() {
        ByteArrayOutputStream quiet = new ByteArrayOutputStream();
        ByteArrayOutputStream loud = new ByteArrayOutputStream();
        NullPointerException npe = new NullPointerException("x");
        assertThat(ErrorReport.of(npe).print(npe, new PrintStream(quiet, true), false)).isEqualTo(1);
        ErrorReport.of(npe).print(npe, new PrintStream(loud, true), true);
        assertThat(quiet.toString()).startsWith("error: internal error: NullPointerException: x").doesNotContain("\tat ");
        assertThat(loud.toString()).contains("\tat ");
        assertThat(ErrorReport.debugFromEnv(Map.of("FINETUNE_DEBUG", "1"))).isTrue();
        assertThat(ErrorReport.debugFromEnv(Map.of())).isFalse();
    }
}
