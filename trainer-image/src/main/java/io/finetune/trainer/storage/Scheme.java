package io.finetune.trainer.storage;

/** The URI schemes the trainer reads from and writes to. */
public enum Scheme {
    FILE("file"), PVC("pvc"), S3("s3"), HTTP("http"), HTTPS("https"), HF("hf");

    private final String prefix;

    Scheme(String prefix) {
        this.prefix = prefix;
    }

    /** "s3", "hf", ... as written before "://". */
    public String prefix() {
        return prefix;
    }
}
