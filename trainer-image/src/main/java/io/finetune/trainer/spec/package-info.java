/**
 * The resolved run description: {@link io.finetune.trainer.spec.RunSpec}, built once from a FineTuneJob by
 * {@link io.finetune.trainer.spec.RunSpecReader} with every default applied and every cross-field rule checked. The trainer's
 * inside (run, train, method, data, plan, preflight) reads these immutable records, never the CRD's mutable spec classes;
 * only the reader here and the pod's contract code (pod/, the preflight pod) see those. The value enums of the API
 * (MethodType, Precision, SchedulerType, LoraInit, DatasetFormat, RecordPolicy) are shared vocabulary and used as they are.
 * A leaf package: it depends on no other trainer package.
 */
package io.finetune.trainer.spec;
