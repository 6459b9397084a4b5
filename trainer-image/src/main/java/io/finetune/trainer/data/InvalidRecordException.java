package io.finetune.trainer.data;

/** A record the loader cannot use; the loader adds file and line and applies spec.dataset.invalidRecords. */
final class InvalidRecordException extends Exception {
    InvalidRecordException(String what) {
        super(what);
    }
}
