package io.finetune.trainer.data;

import io.finetune.api.v1alpha1.DatasetFormat;

/**
 * What the loader did with the dataset; reported in the training summary.
 *
 * @param format          format used (given in the spec or detected from the first record)
 * @param records         usable records after the invalid/overlong policies (= trainRecords + evalRecords)
 * @param trainRecords    records in the training split
 * @param evalRecords     records in the held-out split
 * @param skippedInvalid  malformed/incomplete records dropped by invalidRecords: Skip (train and eval files)
 * @param truncated       records cut to maxSeqLength by overlongRecords: Truncate
 * @param skippedOverlong records dropped by overlongRecords: Skip, or cut so far by Truncate that no loss token was left
 * @param trainTokens     sum of the training examples' lengths
 * @param lossTokens      training positions that carry loss after the shift (see {@link Example#lossTokens()})
 */
public record DataStats(DatasetFormat format, int records, int trainRecords, int evalRecords, int skippedInvalid,
                        int truncated, int skippedOverlong, long trainTokens, long lossTokens) {}
