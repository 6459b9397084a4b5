package io.finetune.trainer.distributed;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Finds and loads libfinetune_gloo.so once per JVM: {@value #LIBRARY_ENV} when set, else {@value #DEFAULT_PATH} (where the
 * trainer images put it). {@link System#load} opens it RTLD_LOCAL, so its gloo:: references resolve to Debian's libgloo
 * that it links, not to the gloo:: symbols libtorch_cpu.so exports; {@link #load} checks that and refuses otherwise.
 */
public final class GlooLibrary {
    /** The library's path; hack/test.sh sets it to hack/build-gloo-jni.sh's output. */
    public static final String LIBRARY_ENV = "FINETUNE_GLOO_LIBRARY";
    /** Where trainer-image/Dockerfile and Dockerfile.cpu install it. */
    public static final String DEFAULT_PATH = "/opt/finetune/lib/libfinetune_gloo.so";

    private static Path loaded;

    private GlooLibrary() {
    }

    /** The library this environment names: {@value #LIBRARY_ENV}, else {@value #DEFAULT_PATH}. */
    public static Path location(Map<String, String> env) {
        String configured = env.get(LIBRARY_ENV);
        return Path.of(configured == null || configured.isBlank() ? DEFAULT_PATH : configured);
    }

    /**
     * The library's path when the file exists.
     *
     * @throws CollectiveException naming the variable (or the default path) when it does not
     */
    static Path installed(Map<String, String> env) {
        Path library = location(env).toAbsolutePath();
        if (!Files.isRegularFile(library)) {
            throw new CollectiveException("the Gloo binding is not installed: " + origin(env, library)
                    + " does not exist (hack/build-gloo-jni.sh builds it; the trainer images ship it)");
        }
        return library;
    }

    private static String origin(Map<String, String> env, Path library) {
        String configured = env.get(LIBRARY_ENV);
        return configured == null || configured.isBlank()
                ? library + " (the default; set " + LIBRARY_ENV + " to use another)"
                : LIBRARY_ENV + "=" + configured;
    }

    /**
     * Loads the library (once; later calls return the loaded path).
     *
     * @throws CollectiveException when it is missing, cannot be loaded, or resolves gloo from another library
     */
    public static synchronized Path load(Map<String, String> env) {
        if (loaded != null) {
            return loaded;
        }
        Path library = installed(env);
        String origin = origin(env, library);
        try {
            System.load(library.toString());
        } catch (UnsatisfiedLinkError e) {
            throw new CollectiveException("cannot load the Gloo binding " + origin + ": " + e.getMessage(), e);
        }
        String gloo = GlooNative.resolvedGlooLibrary();
        if (!Path.of(gloo).getFileName().toString().startsWith("libgloo.so")) {
            throw new CollectiveException("the Gloo binding " + library + " resolved gloo from '" + gloo
                    + "' instead of Debian's libgloo.so (was a library with gloo symbols loaded RTLD_GLOBAL?)");
        }
        loaded = library;
        return library;
    }
}
