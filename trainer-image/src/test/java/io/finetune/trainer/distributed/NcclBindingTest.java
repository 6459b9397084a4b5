package io.finetune.trainer.distributed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * What of the NCCL route can be checked without a GPU: the binding (built with gcc alone) loads in the same JVM as DJL's
 * libtorch; the types and values it declares are NCCL's and CUDA's (read from NCCL's src/nccl.h.in and CUDA's
 * driver_types.h, not from the binding); a CUDA run without libnccl gets one clear error, not a crash; the backend choice;
 * and the copy-free storage pointer the device all-reduce uses. Nothing here runs NCCL: hack/gpu-check.sh does, on a GPU.
 */
class NcclBindingTest {

    @Test
    void bindingLoadsNextToLibtorchAndDeclaresNcclsTypes() throws Exception {
        NcclTestLibrary.require();
        assertThat(matmul()).containsExactly(19f, 22f, 43f, 50f);
        assertThat(Files.readString(Path.of("/proc/self/maps"))).as("DJL loaded libtorch first").contains("libtorch_cpu.so");

        NcclLibrary.loadBinding(System.getenv());
        long[] declared = NcclNative.declared();
        assertThat(declared).containsExactly(
                128,        // sizeof(ncclUniqueId): NCCL_UNIQUE_ID_BYTES
                4, 4, 4,    // ncclResult_t, ncclDataType_t, ncclRedOp_t are C enums (int)
                24,         // ncclConfig_v21400 {size_t size; unsigned magic, version; int blocking;} with padding
                8,          // ncclComm_t: a pointer
                0, 6, 7,    // ncclSuccess, ncclRemoteError, ncclInProgress
                4, 7,       // ncclInt64, ncclFloat32
                0, 2,       // ncclSum, ncclMax
                0xcafebeefL, 21400, // NCCL_API_MAGIC, NCCL_VERSION(2,14,0)
                1,          // cudaStreamLegacy ((cudaStream_t)0x1)
                600, 1, 2); // cudaErrorNotReady, cudaMemcpyHostToDevice, cudaMemcpyDeviceToHost
        assertThat(new long[] {NcclNative.INT64, NcclNative.FLOAT32, NcclNative.SUM, NcclNative.MAX})
                .as("the values Java passes are the ones the binding declares").containsExactly(declared[9], declared[10],
                        declared[11], declared[12]);
        assertThat(matmul()).as("libtorch still computes").containsExactly(19f, 22f, 43f, 50f);
    }

    @Test
    void missingNcclIsOneClearErrorNamingTheLibraryAndWhatShipsIt() {
        Path binding = NcclTestLibrary.require();
        Map<String, String> env = envWith(NcclLibrary.NCCL_ENV, "/nonexistent/libnccl.so.2");
        assertThatThrownBy(() -> NcclLibrary.load(env)).isInstanceOf(CollectiveException.class)
                .hasMessageStartingWith("NCCL is not usable: cannot load /nonexistent/libnccl.so.2: ")
                .hasMessageContaining("ship with the CUDA trainer image (trainer-image/Dockerfile")
                .hasMessageContaining("FINETUNE_DIST_BACKEND=gloo")
                .hasMessageNotContaining("\n");
        // a library that is not NCCL: refused by the first function it lacks, not called
        assertThatThrownBy(() -> NcclLibrary.load(envWith(NcclLibrary.NCCL_ENV, binding.toString())))
                .isInstanceOf(CollectiveException.class)
                .hasMessageStartingWith("NCCL is not usable: " + binding + " has no ncclGetVersion (is it NCCL?)");
        assertThat(NcclNative.describeBinding()).as("nothing was bound").isEmpty();
    }

    @Test
    void aCudaRankWithoutNcclFailsBeforeItListens() throws Exception {
        NcclTestLibrary.require();
        int port = Ranks.freePort();
        Map<String, String> env = envWith(NcclLibrary.NCCL_ENV, "/nonexistent/libnccl.so.2");
        env.putAll(Map.of("WORLD_SIZE", "2", "RANK", "0", "MASTER_ADDR", "127.0.0.1", "MASTER_PORT", Integer.toString(port)));
        env.remove(CollectiveBackend.ENV);
        assertThatThrownBy(() -> ProcessGroups.fromEnvironment(env, Duration.ofSeconds(5), Device.gpu(0)))
                .isInstanceOf(CollectiveException.class)
                .hasMessageStartingWith("rank 0 of 2: NCCL is not usable: cannot load /nonexistent/libnccl.so.2");
    }

    @Test
    void atWorldOneNcclIsUsedOnlyWhenNamed() {
        NcclTestLibrary.require();
        Map<String, String> env = envWith(NcclLibrary.NCCL_ENV, "/nonexistent/libnccl.so.2");
        env.remove("WORLD_SIZE");
        env.remove("RANK");
        env.remove(CollectiveBackend.ENV);
        try (ProcessGroup group = ProcessGroups.fromEnvironment(env, Duration.ofSeconds(5), Device.gpu(0))) {
            assertThat(group).as("one GPU, no backend named: no collective engine at all").isInstanceOf(SingleProcessGroup.class);
        }
        env.put(CollectiveBackend.ENV, "nccl");
        assertThatThrownBy(() -> ProcessGroups.fromEnvironment(env, Duration.ofSeconds(5), Device.gpu(0)))
                .as("named: a group of one on NCCL (what hack/gpu-check.sh's world-1 step runs)")
                .isInstanceOf(CollectiveException.class)
                .hasMessageStartingWith("rank 0 of 1: NCCL is not usable: cannot load /nonexistent/libnccl.so.2");
        try (ProcessGroup group = ProcessGroups.fromEnvironment(env, Duration.ofSeconds(5), Device.cpu())) {
            assertThat(group).as("on the CPU the variable changes nothing at world 1").isInstanceOf(SingleProcessGroup.class);
        }
    }

    @Test
    void missingBindingIsNamedWithItsVariable() {
        assertThatThrownBy(() -> NcclLibrary.installed(Map.of(NcclLibrary.LIBRARY_ENV, "/nonexistent/libfinetune_nccl.so")))
                .isInstanceOf(CollectiveException.class)
                .hasMessage("the NCCL binding is not installed: FINETUNE_NCCL_LIBRARY=/nonexistent/libfinetune_nccl.so does"
                        + " not exist (hack/build-nccl-jni.sh builds it; the CUDA trainer image ships it)");
        assertThat(NcclLibrary.location(Map.of())).isEqualTo(Path.of(NcclLibrary.DEFAULT_PATH));
    }

    @Test
    void ncclOnCudaGlooOnCpuUnlessTheVariableSaysOtherwise() {
        assertThat(CollectiveBackend.choose(Map.of(), Device.cpu())).isEqualTo(CollectiveBackend.GLOO);
        assertThat(CollectiveBackend.choose(Map.of(), Device.gpu(1))).isEqualTo(CollectiveBackend.NCCL);
        assertThat(CollectiveBackend.choose(Map.of(CollectiveBackend.ENV, " Gloo "), Device.gpu(0))).isEqualTo(CollectiveBackend.GLOO);
        assertThat(CollectiveBackend.choose(Map.of(CollectiveBackend.ENV, "nccl"), Device.gpu(0))).isEqualTo(CollectiveBackend.NCCL);
        assertThatThrownBy(() -> CollectiveBackend.choose(Map.of(CollectiveBackend.ENV, "nccl"), Device.cpu()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("FINETUNE_DIST_BACKEND=nccl needs a CUDA device, but this rank computes on cpu() (NCCL reduces"
                        + " GPU memory; use gloo on the CPU)");
        assertThatThrownBy(() -> CollectiveBackend.choose(Map.of(CollectiveBackend.ENV, "mpi"), Device.cpu()))
                .hasMessage("FINETUNE_DIST_BACKEND=mpi is not a collective backend: use nccl or gloo");
        // through the group factory: refused before any connection
        assertThatThrownBy(() -> ProcessGroups.fromEnvironment(Map.of("WORLD_SIZE", "2", "RANK", "1", "MASTER_ADDR",
                "127.0.0.1", "MASTER_PORT", "1", CollectiveBackend.ENV, "nccl"), Duration.ofSeconds(1), Device.cpu()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("FINETUNE_DIST_BACKEND=nccl needs a CUDA");
        assertThatThrownBy(() -> NcclProcessGroup.open(new LaunchEnvironment(0, 2, "127.0.0.1", 1), Duration.ofSeconds(1),
                Map.of(), Device.cpu())).hasMessage("NCCL needs a CUDA device, got cpu() (use Gloo on the CPU)");
    }

    @Test
    void theStoragePointerIsTheTensorsOwnMemory() {
        try (NDManager manager = NDManager.newBaseManager(Device.cpu())) {
            NDArray a = manager.create(new float[] {1, 2, 3, 4}).duplicate();   // storage owned by libtorch
            ByteBuffer storage = DevicePointers.of(a).order(ByteOrder.nativeOrder());
            assertThat(storage.isDirect()).isTrue();
            assertThat(storage.capacity()).isEqualTo(16);
            assertThat(storage.getFloat(8)).isEqualTo(3f);
            storage.putFloat(0, 9f);   // a write through the pointer is a write into the tensor: no copy was made
            assertThat(a.toFloatArray()).containsExactly(9f, 2f, 3f, 4f);
            NDArray transposed = manager.create(new float[] {1, 2, 3, 4}, new Shape(2, 2)).transpose();
            assertThatThrownBy(() -> DevicePointers.of(transposed)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("contiguous");
        }
    }

    @Test
    void aBucketMustBeFloat32() {
        try (NDManager manager = NDManager.newBaseManager(Device.cpu()); ProcessGroup group = new SingleProcessGroup()) {
            NDArray bucket = manager.create(new float[] {1.5f, -2f});
            group.allReduceSum(bucket);
            assertThat(bucket.toFloatArray()).containsExactly(1.5f, -2f);
            assertThatThrownBy(() -> group.allReduceSum(manager.create(new int[] {1}))).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("a gradient bucket must be float32, got " + DataType.INT32);
        }
    }

    private static Map<String, String> envWith(String key, String value) {
        Map<String, String> env = new HashMap<>(System.getenv());
        env.put(key, value);
        return env;
    }

    private static float[] matmul() {
        try (NDManager manager = NDManager.newBaseManager(Device.cpu())) {
            NDArray a = manager.create(new float[] {1, 2, 3, 4}, new Shape(2, 2));
            NDArray b = manager.create(new float[] {5, 6, 7, 8}, new Shape(2, 2));
            return a.matMul(b).toFloatArray();
        }
    }
}
