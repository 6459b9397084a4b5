/**
 * The act step and the objects it creates. Pure builders of the desired ConfigMap, per-job RBAC, preflight Job and
 * training Job (each owned by the FineTuneJob, built from the names in {@code io.finetune.api.TrainerContract}), and
 * {@link io.finetune.operator.desired.DesiredResources}, which creates them if absent, mirrors spec.suspend and keeps the
 * attempt ledger on the Job. Nothing here decides a phase or a reason.
 */
package io.finetune.operator.desired;
