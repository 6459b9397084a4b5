/**
 * What the operator, the trainer and users share: the manifest reader and the spec rules
 * ({@link io.finetune.api.FineTuneJobValidator}), the operator&lt;-&gt;trainer contract
 * ({@link io.finetune.api.TrainerContract}: env, mounts, ports, credential variables; {@link io.finetune.api.TrainerResult}
 * and {@link io.finetune.api.PreflightResult}: the termination messages; {@link io.finetune.api.ArtifactFormat}), and the
 * serving rules. docs/contracts.md explains the contract.
 */
package io.finetune.api;
