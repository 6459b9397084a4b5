/**
 * The status step. {@link io.finetune.operator.status.StatusDeriver} is a pure function from an Observation to the
 * operator-owned status fields and the one owner of phase reasons; {@link io.finetune.operator.status.StatusRecorder}
 * patches the status only when it changed ({@link io.finetune.operator.status.StatusWriter}, progress left to the trainer)
 * and records one event per transition ({@link io.finetune.operator.status.EventRecorder}). Conditions, failure reasons,
 * the attempt ledger and the reading of the trainer's termination message live here too.
 */
package io.finetune.operator.status;
