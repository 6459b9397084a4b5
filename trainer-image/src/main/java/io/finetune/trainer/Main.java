package io.finetune.trainer;

/** Trainer CLI entry point (placeholder until the trainer core lands). */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        System.err.println("finetune-trainer: not implemented yet");
        System.exit(2);
    }
}
