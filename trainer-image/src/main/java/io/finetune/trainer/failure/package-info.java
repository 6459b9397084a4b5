/**
 * The failure taxonomy: {@link io.finetune.trainer.failure.Failure#of} classifies every failure once, giving the CLI's exit
 * class and the pod's status reason together, so the two never disagree.
 */
package io.finetune.trainer.failure;
