/**
 * The operator-wide settings the desired-state builders read ({@link io.finetune.operator.settings.OperatorSettings}: default
 * image, pull policy, default resources), as a plain record so tests build it directly; the root package maps Quarkus
 * configuration onto it. A leaf.
 */
package io.finetune.operator.settings;
