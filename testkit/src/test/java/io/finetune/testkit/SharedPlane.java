package io.finetune.testkit;

/**
 * One control plane (with controllers and the committed CRD) shared by the test classes of this module, so the
 * ~10-30 s start is paid once. Closed when the test JVM exits.
 */
final class SharedPlane {
    private static ControlPlane plane;
    private static RuntimeException startFailure;

    private SharedPlane() {
    }

    static synchronized ControlPlane get() {
        if (startFailure != null) {
            throw startFailure;
        }
        if (plane == null) {
            try {
                plane = ControlPlane.builder().withControllers().withCrds(RepoFiles.crd()).start();
            } catch (RuntimeException e) {
                startFailure = e;   // also a skip (TestAbortedException): every class reports the same reason
                throw e;
            }
            Runtime.getRuntime().addShutdownHook(new Thread(plane::close, "close-shared-control-plane"));
        }
        return plane;
    }
}
