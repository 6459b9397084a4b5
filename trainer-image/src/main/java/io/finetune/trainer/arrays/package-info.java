/**
 * Native-memory ownership of NDArrays: {@link io.finetune.trainer.arrays.OwnedArrays} creates arrays owned by the manager
 * given (the step's sub-manager, so nothing outlives the step), does scalar arithmetic without leaking libtorch scalars
 * into the parameters' manager, and copies values into an array's own storage (never re-pointing it at a Java buffer).
 * Used by model, train, method and linalg; depends on no other trainer package.
 */
package io.finetune.trainer.arrays;
