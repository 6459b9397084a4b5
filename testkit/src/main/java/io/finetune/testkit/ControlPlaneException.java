package io.finetune.testkit;

/** The control plane could not be started or used; the message names the process and carries the tail of its log. */
public class ControlPlaneException extends RuntimeException {
    public ControlPlaneException(String message) {
        super(message);
    }

    public ControlPlaneException(String message, Throwable cause) {
        super(message, cause);
    }
}
