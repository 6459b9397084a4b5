package io.finetune.trainer.distributed;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * The test double of NCCL and the CUDA runtime (src/test/native/nccl-stub/nccl_stub.c: not a collective, see its header),
 * built here with gcc into the test's directory, and what it recorded. Why a stub: no GPU exists on the build machines,
 * yet the binding's control flow (the unique id it publishes, the non-blocking init, the polled timeout, ncclCommAbort,
 * the refusal after a failure) is ours and must be tested; the stub lets it run for real, against functions that behave
 * as the environment tells them to ({@link #env}).
 */
final class NcclStub {
    static final Path SOURCE = Path.of("src/test/native/nccl-stub/nccl_stub.c");
    /** The stub's variables (see nccl_stub.c). */
    static final String DIR_ENV = "FINETUNE_STUB_NCCL_DIR";
    static final String SEED_ENV = "FINETUNE_STUB_NCCL_ID_SEED";
    static final String INIT_ENV = "FINETUNE_STUB_NCCL_INIT";
    static final String COLLECTIVE_ENV = "FINETUNE_STUB_NCCL_COLLECTIVE";

    private NcclStub() {
    }

    /**
     * The binding (skipped or failed as {@link NcclTestLibrary#require} says) and the stub compiled into {@code dir}.
     *
     * @return the stub library's path
     */
    static Path build(Path dir) throws IOException, InterruptedException {
        NcclTestLibrary.require();
        Path out = dir.resolve("libnccl_stub.so");
        Process gcc;
        try {
            gcc = new ProcessBuilder("gcc", "-std=c11", "-O1", "-fPIC", "-shared", "-fvisibility=hidden", "-Wall", "-Wextra",
                    "-Werror", SOURCE.toString(), "-o", out.toString()).redirectErrorStream(true).start();
        } catch (IOException e) {
            String why = "gcc is needed to build the NCCL stub: " + e.getMessage();
            if ("true".equalsIgnoreCase(System.getenv(NcclTestLibrary.REQUIRE_ENV))) {
                fail(why);
            }
            Assumptions.abort(why);
            return null;
        }
        String output = new String(gcc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!gcc.waitFor(60, TimeUnit.SECONDS) || gcc.exitValue() != 0) {
            fail("gcc could not build " + SOURCE + ":\n" + output);
        }
        return out;
    }

    /** Every rank's environment: the binding, the stub as both libnccl and libcudart, NCCL named, records in {@code calls}. */
    static Map<String, String> env(Path stub, Path calls, Map<String, String> behaviour) {
        Map<String, String> env = new HashMap<>();
        env.put(NcclLibrary.LIBRARY_ENV, NcclTestLibrary.require().toString());
        env.put(NcclLibrary.NCCL_ENV, stub.toString());
        env.put(NcclLibrary.CUDART_ENV, stub.toString());
        env.put(CollectiveBackend.ENV, "nccl");
        env.put(DIR_ENV, calls.toString());
        env.put("OMP_NUM_THREADS", "1");
        env.putAll(behaviour);
        return env;
    }

    /** What the stub recorded in rank {@code rank}'s process, one call a line, in order. */
    static List<String> calls(Path calls, int rank) throws IOException {
        Path file = calls.resolve("rank" + rank + ".calls");
        return Files.exists(file) ? Files.readAllLines(file, StandardCharsets.UTF_8) : List.of();
    }

    /** The 128 bytes the stub's ncclGetUniqueId returns in rank {@code rank}'s process, in hex (nccl_stub.c's rule). */
    static String expectedId(int seed, int rank) {
        byte[] id = new byte[128];
        for (int i = 0; i < id.length; i++) {
            id[i] = (byte) ((seed * 131 + rank * 17 + i * 7) & 0xff);
        }
        return HexFormat.of().formatHex(id);
    }
}
