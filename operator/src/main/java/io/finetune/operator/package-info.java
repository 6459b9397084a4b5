/**
 * The FineTuneJob operator: {@link io.finetune.operator.FineTuneJobController} is the JOSDK reconciler and runs each pass as
 * observe ({@code observe}) -> validate ({@code validate}) -> act ({@code desired}) -> status ({@code status}), with those
 * collaborators constructor-injected by {@link io.finetune.operator.OperatorBeans}. This package also holds the
 * operator's settings, the names of the objects it creates, its Prometheus metrics and leader election.
 */
package io.finetune.operator;
