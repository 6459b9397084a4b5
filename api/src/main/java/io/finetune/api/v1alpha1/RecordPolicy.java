package io.finetune.api.v1alpha1;

/** What the trainer does with a dataset record it cannot use. */
public enum RecordPolicy {
    /** Stop the job with an error naming the file and line. */
    Fail,
    /** Drop the record, count it and report the count in the training summary. */
    Skip,
    /** Cut an over-long record to maxSeqLength (only meaningful for over-long records); counted and reported. */
    Truncate
}
