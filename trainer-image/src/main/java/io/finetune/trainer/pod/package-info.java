/**
 * The trainer inside a Kubernetes pod: the path is {@link io.finetune.trainer.pod.PodRunner} (redacted output, the mounted
 * job, progress, exactly one termination message; its training is {@code PodRunner.trainInStorage}) ->
 * {@code run.TrainingRun} -> {@code train.Trainer}; the result the operator records carries the summary's measured memory and the method's output.
 */
package io.finetune.trainer.pod;
