/**
 * The memory plan: every method's {@link io.finetune.trainer.method.MemoryEstimate} for a model's dimensions against one
 * device memory ({@link io.finetune.trainer.plan.MemoryPlan}), the fail-fast check before training on a GPU ({@link
 * io.finetune.trainer.plan.PlanCheck}) and the {@code plan} command. Each method computes its own estimate.
 */
package io.finetune.trainer.plan;
