package io.finetune.trainer.failure;

/** The CLI's exit codes by class of failure (the README's CLI section lists them; 75, stopped on SIGTERM, is not a failure). */
public enum ExitClass {
    /** A bug or a failure the user cannot fix (e.g. the native engine failed): report it. */
    INTERNAL(1),
    /** The command line: unknown command or option, a missing or malformed argument. */
    USAGE(2),
    /** The input: the manifest, model, tokenizer, dataset, a storage location or the output destination. */
    INPUT(3),
    /** The machine: out of memory (Java heap, native, or the plan for the device), disk full, storage unreachable. */
    RESOURCE(4);

    private final int code;

    ExitClass(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }
}
