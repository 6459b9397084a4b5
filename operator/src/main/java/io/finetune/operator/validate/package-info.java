/**
 * The validate step: the shared spec rules of {@code io.finetune.api.FineTuneJobValidator} (the API server may lack CEL)
 * plus what only the operator knows (derived name lengths, a trainer image, quantities, credentials Secrets, GPUs). Runs
 * only while no training Job exists; a violation fails the FineTuneJob with reason InvalidSpec and creates nothing.
 */
package io.finetune.operator.validate;
