/**
 * The names, labels and annotations of the objects the operator creates for a FineTuneJob ({@link
 * io.finetune.operator.naming.Names}): how a Job, pod, ConfigMap or Role is found again from its FineTuneJob. A leaf: it
 * depends on no other operator package, so observe/, validate/, desired/ and status/ all read it.
 */
package io.finetune.operator.naming;
