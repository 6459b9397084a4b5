package io.finetune.trainer.failure;

import ai.djl.engine.EngineException;
import io.finetune.api.FineTuneJobManifest;
import io.finetune.api.TrainerResult.Reason;
import io.finetune.trainer.data.DatasetException;
import io.finetune.trainer.distributed.CollectiveException;
import io.finetune.trainer.safetensors.SafetensorsException;
import io.finetune.trainer.method.TargetModulesNotFoundException;
import io.finetune.trainer.model.ModelException;
import io.finetune.trainer.plan.PlanCheck;
import io.finetune.trainer.run.OutputSafety;
import io.finetune.trainer.process.OutOfMemory;
import io.finetune.trainer.storage.StorageException;
import io.finetune.trainer.train.TrainingDivergedException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;

/**
 * The one classification of a failed command or run: the CLI's exit class ({@code cli/ErrorReport}) and the status reason
 * the pod reports ({@code pod/PodRunner}) come from the same {@link #of} call, so a failure means the same thing locally
 * and in a cluster. Classified by the trainer's own exception types anywhere in the cause chain, never by message words
 * (libtorch's allocation failures, which have no type of their own, are the one exception: {@link OutOfMemory}).
 */
public sealed interface Failure {
    /** The CLI's exit class. */
    ExitClass exitClass();

    /** The reason the operator records (status condition reason). */
    Reason reason();

    /** One line, without the "error: " prefix: the file, field or URI and what to do. */
    String message();

    /** The command line was wrong (never happens in a pod). */
    record Usage(String message) implements Failure {
        public ExitClass exitClass() {
            return ExitClass.USAGE;
        }

        public Reason reason() {
            return Reason.TrainerError;
        }
    }

    /** An input the user can fix: the manifest, model, tokenizer, dataset, a storage location or the destination. */
    record BadInput(Reason reason, String message) implements Failure {
        public ExitClass exitClass() {
            return ExitClass.INPUT;
        }
    }

    /** The machine or the service: memory, disk, storage unreachable after retries. */
    record OutOfResources(Reason reason, String message) implements Failure {
        public ExitClass exitClass() {
            return ExitClass.RESOURCE;
        }
    }

    /** A bug, or a failure of the native engine: to be reported. */
    record Internal(String message) implements Failure {
        public ExitClass exitClass() {
            return ExitClass.INTERNAL;
        }

        public Reason reason() {
            return Reason.TrainerError;
        }
    }

    /** The status reason of {@code e} (the pod's classifier). */
    static Reason reasonOf(Throwable e) {
        return of(e).reason();
    }

    /** Classifies {@code e}; never throws. */
    static Failure of(Throwable e) {
        if (e instanceof UsageException) {
            return new Usage(text(e));
        }
        Failure typed = byTrainerType(e);
        if (typed != null) {
            return typed;
        }
        if (OutOfMemory.causedBy(e)) {
            return new OutOfResources(Reason.OutOfMemory, "out of memory (" + text(rootOf(e)) + "): lower"
                    + " spec.training.batchSize or spec.dataset.maxSeqLength, or give the process more memory (-Xmx for the"
                    + " Java heap)");
        }
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof FileSystemException fs && fs.getMessage() != null
                    && fs.getMessage().contains("No space left on device")) {
                return new OutOfResources(Reason.TrainerError, "no space left on the device writing " + fs.getFile()
                        + ": free space there or choose another output");
            }
        }
        if (e instanceof NoSuchFileException f) {
            return new BadInput(Reason.StorageError, f.getFile() + ": no such file");
        }
        if (e instanceof AccessDeniedException f) {
            return new BadInput(Reason.StorageError, f.getFile() + ": permission denied (make it readable, or writable"
                    + " for an output, by this user)");
        }
        if (e instanceof FileSystemException f) {
            return new BadInput(Reason.StorageError, f.getFile() + ": " + (f.getReason() == null ? text(e) : f.getReason()));
        }
        if (e instanceof UncheckedIOException u && u.getCause() != null) {
            return of(u.getCause());
        }
        if (e instanceof EngineException) {
            return new Internal("the native engine (libtorch) failed: " + text(e) + " (rerun with --debug and report it)");
        }
        if (e instanceof IllegalArgumentException || e instanceof UnsupportedOperationException || isTrainerOwn(e)) {
            return new BadInput(Reason.InvalidSpec, text(e));
        }
        if (e instanceof IOException) {
            return new BadInput(Reason.TrainerError, text(e));
        }
        return new Internal("internal error: " + e.getClass().getSimpleName() + ": " + text(e)
                + " (rerun with --debug for the stack trace and report it)");
    }

    /** The trainer's own failure types, anywhere in the cause chain (the message is the one that names the input). */
    private static Failure byTrainerType(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            String m = text(t);
            if (t instanceof CollectiveException) {
                // another rank died, hung or never joined: the run as a whole failed, not this rank's input
                return new OutOfResources(Reason.TrainerError, m);
            }
            if (t instanceof PlanCheck.DoesNotFitException) {
                return new OutOfResources(Reason.InsufficientGPUMemory, m);
            }
            if (t instanceof DatasetException) {
                return new BadInput(Reason.InvalidDataset, m);
            }
            if (t instanceof StorageException s) {
                return s.reason().retryable()
                        ? new OutOfResources(Reason.StorageError, m + " (retries exhausted; try again later)")
                        : new BadInput(Reason.StorageError, m);
            }
            if (t instanceof OutputSafety.UnsafeOutputException) {
                return new BadInput(Reason.StorageError, m);
            }
            if (t instanceof SafetensorsException || t instanceof ModelException) {
                return new BadInput(Reason.InvalidModel, m);
            }
            if (t instanceof TargetModulesNotFoundException) {
                return new BadInput(Reason.TargetModulesNotFound, m);
            }
            if (t instanceof TrainingDivergedException || t instanceof FineTuneJobManifest.InvalidManifestException) {
                return new BadInput(Reason.InvalidSpec, m);
            }
        }
        return null;
    }

    /** Any other runtime exception of the trainer's packages is about its input (it checks before it computes). */
    private static boolean isTrainerOwn(Throwable e) {
        return e.getClass().getName().startsWith("io.finetune.") && e instanceof RuntimeException;
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
