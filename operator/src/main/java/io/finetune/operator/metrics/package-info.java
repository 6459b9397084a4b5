/**
 * What the operator reports on /q/metrics ({@link io.finetune.operator.metrics.OperatorMetrics}): reconciles, errors, Jobs
 * created, FineTuneJobs by phase, GPU-seconds. A leaf: the act step and the controller count into it.
 */
package io.finetune.operator.metrics;
