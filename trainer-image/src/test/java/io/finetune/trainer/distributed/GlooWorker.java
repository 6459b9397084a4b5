package io.finetune.trainer.distributed;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.StringJoiner;

/**
 * One rank of the multi-process tests (GlooProcessGroupTest starts N of these JVMs with torchrun's variables set):
 * {@code GlooWorker SCENARIO RESULT_FILE TIMEOUT_MILLIS}. Scenarios: {@code collectives} writes every result to RESULT_FILE
 * (key=value lines; float arrays as raw bits, so the test compares the ranks' outputs exactly); {@code hang}: rank 0 enters
 * an all-reduce that the other ranks never join (they sleep until the test kills them or until the timeout). A
 * {@link CollectiveException} prints one {@code error:} line and exits 2.
 */
public final class GlooWorker {
    /** 16M floats (64 MB): a large gradient bucket. */
    static final int LARGE = 16 * 1024 * 1024;
    /** An odd length, so no algorithm can rely on a length divisible by the world size. */
    static final int ODD = 1001;
    /** 16 MB, the timed bucket. */
    static final int TIMED = 4 * 1024 * 1024;

    private GlooWorker() {
    }

    public static void main(String[] args) throws Exception {
        String scenario = args[0];
        Path result = Path.of(args[1]);
        Duration timeout = Duration.ofMillis(Long.parseLong(args[2]));
        try (ProcessGroup group = ProcessGroups.fromEnvironment(System.getenv(), timeout)) {
            System.out.println("joined rank " + group.rank() + " of " + group.worldSize());
            switch (scenario) {
                case "collectives" -> collectives(group, result);
                case "hang" -> hang(group);
                case "publishSlow" -> publish(group, timeout, false);
                case "publishFails" -> publish(group, timeout, true);
                default -> throw new IllegalArgumentException("unknown scenario " + scenario);
            }
        } catch (CollectiveException e) {
            System.out.println("error: " + e.getMessage());
            System.out.flush();
            System.exit(2);
        }
    }

    static float oddValue(int rank, int i) {
        return (rank + 1) * (i % 13) + i;
    }

    static float largeValue(int rank, int i) {
        return (i % 1024) + 3 * rank;
    }

    private static void collectives(ProcessGroup group, Path result) throws IOException {
        int rank = group.rank();
        StringJoiner out = new StringJoiner("\n", "", "\n");

        float[] odd = new float[ODD];
        for (int i = 0; i < ODD; i++) {
            odd[i] = oddValue(rank, i);
        }
        group.allReduceSum(odd);
        out.add("odd=" + bits(odd));

        FloatBuffer direct = ByteBuffer.allocateDirect(LARGE * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
        float[] heap = new float[LARGE];
        for (int i = 0; i < LARGE; i++) {
            direct.put(i, largeValue(rank, i));
            heap[i] = largeValue(rank, i);
        }
        group.allReduceSum(direct);
        group.allReduceSum(heap);
        float[] directResult = new float[LARGE];
        direct.get(0, directResult);
        out.add("largeDirect=" + digest(directResult));
        out.add("largeHeap=" + digest(heap));
        out.add("largeDirectHead=" + bits(Arrays.copyOf(directResult, 2048)));
        out.add("largeHeapTail=" + bits(Arrays.copyOfRange(heap, LARGE - 2048, LARGE)));
        out.add("largeMismatches=" + (mismatches(directResult, group.worldSize()) + mismatches(heap, group.worldSize())));

        float[] mean = new float[7];
        for (int i = 0; i < mean.length; i++) {
            mean[i] = 2 * rank + i;
        }
        group.allReduceMean(mean);
        out.add("mean=" + bits(mean));

        float[] fromZero = new float[ODD];
        for (int i = 0; i < ODD; i++) {
            fromZero[i] = rank * 1000 + i;
        }
        group.broadcast(fromZero, 0);
        out.add("broadcastFromZero=" + bits(fromZero));

        int last = group.worldSize() - 1;
        FloatBuffer fromLast = ByteBuffer.allocateDirect(5 * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
        for (int i = 0; i < 5; i++) {
            fromLast.put(i, rank * 10 + i);
        }
        group.broadcast(fromLast, last);
        float[] fromLastResult = new float[5];
        fromLast.get(0, fromLastResult);
        out.add("broadcastFromLast=" + bits(fromLastResult));

        long[] max = {rank, -rank, rank == 1 ? 7 : 0};
        group.allReduceMax(max);
        out.add("max=" + max[0] + "," + max[1] + "," + max[2]);

        group.barrier();
        out.add("barrier=passed");
        out.add("timing=" + timing(group));
        Files.writeString(result, out.toString(), StandardCharsets.UTF_8);
    }

    /** Median wall time of a 16 MB all-reduce, direct buffer and float[] (printed, never asserted). */
    private static String timing(ProcessGroup group) {
        FloatBuffer direct = ByteBuffer.allocateDirect(TIMED * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
        float[] heap = new float[TIMED];
        double[] directMs = new double[12];
        double[] heapMs = new double[12];
        for (int r = 0; r < directMs.length; r++) {
            group.barrier();
            long t0 = System.nanoTime();
            group.allReduceSum(direct);
            directMs[r] = (System.nanoTime() - t0) / 1e6;
            group.barrier();
            t0 = System.nanoTime();
            group.allReduceSum(heap);
            heapMs[r] = (System.nanoTime() - t0) / 1e6;
        }
        return String.format(java.util.Locale.ROOT, "16MB all-reduce median: direct %.1f ms, float[] %.1f ms",
                median(directMs), median(heapMs));
    }

    private static double median(double[] ms) {
        double[] sorted = Arrays.copyOfRange(ms, 2, ms.length); // the first two warm up
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    private static long mismatches(float[] sum, int worldSize) {
        long bad = 0;
        for (int i = 0; i < sum.length; i++) {
            float expected = 0;
            for (int r = 0; r < worldSize; r++) {
                expected += largeValue(r, i);
            }
            if (sum[i] != expected) {
                bad++;
            }
        }
        return bad;
    }

    /**
     * The run's end ({@link RunEnd}): rank 0's "publish" takes three collective timeouts, then returns or fails; the other
     * ranks wait for it. Rank 0's own failure exits 3 with its message.
     */
    private static void publish(ProcessGroup group, Duration timeout, boolean fails) {
        long t0 = System.nanoTime();
        if (group.rank() == 0) {
            try {
                String r = RunEnd.rankZero(group, Duration.ofMillis(200), () -> {
                    Thread.sleep(3 * timeout.toMillis());
                    if (fails) {
                        throw new IOException("upload refused by the destination");
                    }
                    return "published";
                });
                System.out.println("rank 0 " + r + " after ms=" + (System.nanoTime() - t0) / 1_000_000);
            } catch (IOException e) {
                System.out.println("error: " + e.getMessage());
                System.out.flush();
                System.exit(3);
            }
        } else {
            RunEnd.peer(group);
            System.out.println("peer returned after ms=" + (System.nanoTime() - t0) / 1_000_000);
        }
    }

    private static void hang(ProcessGroup group) throws InterruptedException {
        if (group.rank() == 0) {
            float[] data = new float[TIMED];
            System.out.println("entering all-reduce");
            System.out.flush();
            long t0 = System.nanoTime();
            try {
                group.allReduceSum(data);
                System.out.println("all-reduce returned");
            } catch (CollectiveException e) {
                System.out.println("failed after ms=" + (System.nanoTime() - t0) / 1_000_000);
                throw e;
            }
        } else {
            System.out.println("not joining");
            System.out.flush();
            Thread.sleep(600_000);
        }
    }

    static String bits(float[] values) {
        StringJoiner j = new StringJoiner(",");
        for (float v : values) {
            j.add(Integer.toHexString(Float.floatToRawIntBits(v)));
        }
        return j.toString();
    }

    static float[] parseBits(String text) {
        String[] parts = text.split(",");
        float[] out = new float[parts.length];
        for (int i = 0; i < parts.length; i++) {
            out[i] = Float.intBitsToFloat(Integer.parseUnsignedInt(parts[i], 16));
        }
        return out;
    }

    private static String digest(float[] values) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            ByteBuffer chunk = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
            for (float v : values) {
                if (!chunk.hasRemaining()) {
                    sha.update(chunk.array(), 0, chunk.position());
                    chunk.clear();
                }
                chunk.putFloat(v);
            }
            sha.update(chunk.array(), 0, chunk.position());
            return HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

}
