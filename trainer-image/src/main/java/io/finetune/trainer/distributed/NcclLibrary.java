package io.finetune.trainer.distributed;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Finds and loads the NCCL binding (libfinetune_nccl.so: {@value #LIBRARY_ENV}, else {@value #DEFAULT_PATH}) and, through
 * it, NVIDIA's libnccl.so.2 and libcudart. Why two steps: the binding is ours and built with gcc alone (no registry
 * reachable here serves nccl.h), so it links neither library and dlopen()s them at run time; in the CUDA image
 * libtorch_cuda has already loaded both, and the binding uses those very copies. {@link #loadBinding} needs no NVIDIA
 * library (the CPU tests load it next to DJL); {@link #load} does.
 */
public final class NcclLibrary {
    /** The binding's path; hack/test.sh sets it to hack/build-nccl-jni.sh's output. */
    public static final String LIBRARY_ENV = "FINETUNE_NCCL_LIBRARY";
    /** Where trainer-image/Dockerfile installs it. */
    public static final String DEFAULT_PATH = "/opt/finetune/lib/libfinetune_nccl.so";
    /** NVIDIA's NCCL: a path, or the soname {@value #DEFAULT_NCCL} (found where libtorch_cuda found it). */
    public static final String NCCL_ENV = "FINETUNE_LIBNCCL";
    public static final String DEFAULT_NCCL = "libnccl.so.2";
    /** The CUDA runtime: a path; unset, the libcudart this process already loaded, else CUDA 13/12/11's sonames. */
    public static final String CUDART_ENV = "FINETUNE_LIBCUDART";

    private static Path loaded;
    private static String bound;

    private NcclLibrary() {
    }

    /** The binding this environment names: {@value #LIBRARY_ENV}, else {@value #DEFAULT_PATH}. */
    public static Path location(Map<String, String> env) {
        String configured = env.get(LIBRARY_ENV);
        return Path.of(configured == null || configured.isBlank() ? DEFAULT_PATH : configured);
    }

    /**
     * Loads the binding only (once). It opens no NVIDIA library, so this works on any machine.
     *
     * @throws CollectiveException when it is missing or cannot be loaded
     */
    public static synchronized Path loadBinding(Map<String, String> env) {
        if (loaded != null) {
            return loaded;
        }
        Path library = installed(env);
        String origin = origin(env, library);
        try {
            System.load(library.toString());
        } catch (UnsatisfiedLinkError e) {
            throw new CollectiveException("cannot load the NCCL binding " + origin + ": " + e.getMessage(), e);
        }
        loaded = library;
        return library;
    }

    /**
     * The binding's path when the file exists.
     *
     * @throws CollectiveException naming the variable (or the default path) when it does not
     */
    static Path installed(Map<String, String> env) {
        Path library = location(env).toAbsolutePath();
        if (!Files.isRegularFile(library)) {
            throw new CollectiveException("the NCCL binding is not installed: " + origin(env, library)
                    + " does not exist (hack/build-nccl-jni.sh builds it; the CUDA trainer image ships it)");
        }
        return library;
    }

    private static String origin(Map<String, String> env, Path library) {
        String configured = env.get(LIBRARY_ENV);
        return configured == null || configured.isBlank()
                ? library + " (the default; set " + LIBRARY_ENV + " to use another)" : LIBRARY_ENV + "=" + configured;
    }

    /**
     * Loads the binding and opens libnccl and libcudart through it (once; later calls return the same description).
     *
     * @return which files were resolved and NCCL's version code
     * @throws CollectiveException naming the library that is missing and what ships it
     */
    public static synchronized String load(Map<String, String> env) {
        loadBinding(env);
        if (bound != null) {
            return bound;
        }
        String nccl = orDefault(env.get(NCCL_ENV), DEFAULT_NCCL);
        String cudart = orDefault(env.get(CUDART_ENV), "");
        try {
            NcclNative.bind(nccl, cudart);
        } catch (NcclError e) {
            throw new CollectiveException("NCCL is not usable: " + e.getMessage() + ". " + nccl + " and libcudart ship with"
                    + " the CUDA trainer image (trainer-image/Dockerfile: the PyTorch base image's NCCL and CUDA runtime,"
                    + " which libtorch_cuda loads); elsewhere set " + NCCL_ENV + " (and " + CUDART_ENV + ") to their"
                    + " paths, or " + CollectiveBackend.ENV + "=gloo to reduce through host memory", e);
        }
        bound = NcclNative.describeBinding();
        return bound;
    }

    private static String orDefault(String value, String fallback) {
        return value == null || value.isBlank() ? fallback : value.strip();
    }
}
