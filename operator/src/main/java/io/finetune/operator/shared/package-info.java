/**
 * What every step of the reconcile pass reads and none of them owns: resource names and labels ({@link
 * io.finetune.operator.shared.Names}), the operator's settings and its Prometheus metrics. A leaf: it depends on no other
 * operator package, so observe/, validate/, desired/ and status/ can use it without depending on the controller.
 */
package io.finetune.operator.shared;
