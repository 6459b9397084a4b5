/**
 * The observe step: reads the cluster and never writes it. {@link io.finetune.operator.observe.Observer} builds an
 * {@link io.finetune.operator.observe.Observation} (the training Job and whether this FineTuneJob owns it, a spec change
 * since the Job was built, the preflight's verdict, the training pods); {@link io.finetune.operator.observe.SpecChange} is
 * the one place spec changes are detected, {@link io.finetune.operator.observe.PodFacts} reads pod states.
 */
package io.finetune.operator.observe;
