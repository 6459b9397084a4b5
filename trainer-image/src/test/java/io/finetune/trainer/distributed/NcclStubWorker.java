package io.finetune.trainer.distributed;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.StringJoiner;

/**
 * One rank of NcclStubProcessGroupTest: {@code NcclStubWorker SCENARIO RESULT_FILE TIMEOUT_MILLIS}, a JVM with DJL's
 * libtorch loaded first (as in the trainer) that joins an {@link NcclProcessGroup} on "CUDA device 0" through
 * {@link ProcessGroups#fromEnvironment} with {@code FINETUNE_DIST_BACKEND=nccl}; libnccl and libcudart are the test
 * double (nccl_stub.c), so no GPU is needed and the device is only a name. Scenarios: {@code collectives} runs every
 * host collective and writes the results to RESULT_FILE (key=value); {@code fail} runs one all-reduce that the stub
 * makes fail, then tries every collective again and prints {@code refused: <message>} for each refusal; {@code join}
 * only joins and closes. A
 * {@link CollectiveException} prints {@code failed after ms=N} and one {@code error:} line, and exits 2.
 */
public final class NcclStubWorker {
    /** The host collectives' inputs (the test knows them). */
    static final float[] SUM = {1.5f, -2f, 0f, 1000f, 7f};
    static final float[] SLICE = {1f, 2f, 3f, 4f, 5f, 6f};
    static final int SLICE_FROM = 2;
    static final int SLICE_TO = 5;
    static final long[] MAX = {5, -4, 0};
    static final float[] FROM_ONE = {1f, 2f, 3f};
    static final float[] FROM_ZERO = {4f, 5f};
    static final float[] FAILING = {1f, 2f, 3f};

    private NcclStubWorker() {
    }

    public static void main(String[] args) throws Exception {
        String scenario = args[0];
        Path result = Path.of(args[1]);
        Duration timeout = Duration.ofMillis(Long.parseLong(args[2]));
        System.out.println("libtorch computes " + Arrays.toString(matmul()));
        long t0 = System.nanoTime();
        try (ProcessGroup group = ProcessGroups.fromEnvironment(System.getenv(), timeout, Device.gpu(0))) {
            System.out.println("joined rank " + group.rank() + " of " + group.worldSize() + " on "
                    + group.getClass().getSimpleName());
            switch (scenario) {
                case "collectives" -> collectives(group, result);
                case "fail" -> fail(group, result);
                case "join" -> System.out.println("closing");
                default -> throw new IllegalArgumentException("unknown scenario " + scenario);
            }
        } catch (CollectiveException e) {
            System.out.println("failed after ms=" + (System.nanoTime() - t0) / 1_000_000);
            System.out.println("error: " + e.getMessage());
            System.out.flush();
            System.exit(2);
        }
    }

    private static void collectives(ProcessGroup group, Path result) throws IOException {
        StringJoiner out = new StringJoiner("\n", "", "\n");
        float[] sum = SUM.clone();
        group.allReduceSum(sum);
        out.add("sum=" + Arrays.toString(sum));

        FloatBuffer slice = direct(SLICE);
        slice.position(SLICE_FROM).limit(SLICE_TO);
        group.allReduceSum(slice);
        out.add("slice=" + Arrays.toString(read(slice)));

        long[] max = MAX.clone();
        group.allReduceMax(max);
        out.add("max=" + Arrays.toString(max));

        float[] fromOne = FROM_ONE.clone();
        group.broadcast(fromOne, 1);
        out.add("fromOne=" + Arrays.toString(fromOne));

        FloatBuffer fromZero = direct(FROM_ZERO);
        group.broadcast(fromZero, 0);
        out.add("fromZero=" + Arrays.toString(read(fromZero)));

        group.barrier();
        out.add("barrier=passed");
        Files.writeString(result, out.toString(), StandardCharsets.UTF_8);
    }

    /** One failing all-reduce, then every collective once more: each must be refused without reaching NCCL. */
    private static void fail(ProcessGroup group, Path result) throws IOException {
        float[] data = FAILING.clone();
        long t0 = System.nanoTime();
        CollectiveException failure;
        try {
            group.allReduceSum(data);
            System.out.println("the all-reduce returned");
            return;
        } catch (CollectiveException e) {
            System.out.println("all-reduce failed after ms=" + (System.nanoTime() - t0) / 1_000_000);
            failure = e;
        }
        Files.writeString(result, "afterFailure=" + Arrays.toString(data) + "\n", StandardCharsets.UTF_8);
        Runnable[] later = {
            () -> group.allReduceSum(new float[] {1f}),
            () -> group.allReduceSum(direct(new float[] {1f})),
            () -> group.allReduceMax(new long[] {1}),
            () -> group.broadcast(new float[] {1f}, 0),
            () -> group.broadcast(direct(new float[] {1f}), 1),
            group::barrier,
        };
        for (Runnable call : later) {
            try {
                call.run();
                System.out.println("not refused");
            } catch (CollectiveException e) {
                System.out.println("refused: " + e.getMessage());
            }
        }
        throw failure;
    }

    private static FloatBuffer direct(float[] values) {
        FloatBuffer b = ByteBuffer.allocateDirect(values.length * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
        b.put(values).clear();
        return b;
    }

    private static float[] read(FloatBuffer b) {
        float[] all = new float[b.capacity()];
        b.duplicate().clear().get(all);
        return all;
    }

    private static float[] matmul() {
        try (NDManager manager = NDManager.newBaseManager(Device.cpu())) {
            NDArray a = manager.create(new float[] {1, 2, 3, 4}, new Shape(2, 2));
            return a.matMul(a).toFloatArray();
        }
    }
}
