/**
 * The FineTuneJob custom resource, version v1alpha1: spec and status types whose annotations generate the CRD
 * (crds/, checked by CrdInSyncTest) and the field reference (docs/reference/finetunejob.md). Bounds, patterns and defaults
 * are declared here once; the validator's copies are held equal by ValidatorBoundsTest.
 */
package io.finetune.api.v1alpha1;
