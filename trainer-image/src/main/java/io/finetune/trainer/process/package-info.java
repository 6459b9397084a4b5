/**
 * Process set-up, done once by {@code Main} before any command runs: DJL's CUDA probe quietened where there is no NVIDIA
 * driver ({@link io.finetune.trainer.process.CudaProbe}), libtorch's thread pools sized from OMP_NUM_THREADS
 * ({@link io.finetune.trainer.process.Threads}), glibc malloc kept from unmapping tensor buffers
 * ({@link io.finetune.trainer.process.NativeAllocator}); and the one test for "the process ran out of memory" that the CLI's
 * exit codes and the pod's failure reason share ({@link io.finetune.trainer.process.OutOfMemory}).
 */
package io.finetune.trainer.process;
