/**
 * Collectives for data-parallel training: a {@link io.finetune.trainer.distributed.ProcessGroup} of N trainer processes
 * (one per device) that all-reduce gradients, broadcast parameters and agree on flags. Why a package of its own: when a job
 * outgrows one device it must run on an existing collective engine (Gloo on CPU, NCCL on CUDA), never on an all-reduce of
 * our own, and the trainer's code path must be the same at world size 1. {@link io.finetune.trainer.distributed.ProcessGroups}
 * reads torchrun's contract (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT) and returns a no-op group at world size 1, an
 * {@link io.finetune.trainer.distributed.NcclProcessGroup} on a CUDA device (NVIDIA's NCCL, dlopen()ed by a gcc-only JNI
 * library, trainer-image/src/main/native/nccl, because no registry reachable here serves nccl.h), or a
 * {@link io.finetune.trainer.distributed.GlooProcessGroup} on the CPU, which binds Debian's Gloo through a small JNI library
 * (trainer-image/src/main/native/gloo, built by hack/build-gloo-jni.sh) because no registry reachable here serves the
 * libtorch 2.7.1 headers a c10d op library would need. Rank 0 hosts a tiny key-value store (in the role of c10d's
 * TCPStore) for the few bytes of addresses Gloo exchanges while connecting; every gradient byte moves through Gloo's own TCP
 * transport and algorithms. The other side of the contract, torchrun's role, is here too:
 * {@link io.finetune.trainer.distributed.Launcher} starts a node's ranks as child JVMs with those variables set
 * ({@link io.finetune.trainer.distributed.NodeTopology} from Kubeflow Trainer's PET_* names,
 * {@link io.finetune.trainer.distributed.LaunchPlan} per child), forwards their lines and signals, and composes one exit
 * code. Depends on no other trainer package (on DJL for the gradient buckets).
 */
package io.finetune.trainer.distributed;
