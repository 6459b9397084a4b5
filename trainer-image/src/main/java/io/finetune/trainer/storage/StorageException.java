package io.finetune.trainer.storage;

/**
 * A storage operation failed. The message always names the URI involved and never carries a credential: stores build it from
 * status codes and error codes, not from raw server or SDK messages.
 */
public final class StorageException extends RuntimeException {

    /** Why it failed; {@link #retryable()} says whether trying again may help. */
    public enum Reason {
        /** The URI is malformed, uses an unknown scheme, or asks a read-only scheme to write. */
        INVALID_URI(false),
        /** No file or object at the URI (HTTP 404, missing key, missing local path). */
        NOT_FOUND(false),
        /** The S3 bucket does not exist. */
        BUCKET_NOT_FOUND(false),
        /** Credentials missing, wrong or without permission (HTTP 401/403). */
        ACCESS_DENIED(false),
        /** The server rejected the request for another client-side reason (other HTTP 4xx). */
        REJECTED(false),
        /** The connection dropped or the body ended before its announced size. */
        TRUNCATED(true),
        /** The server failed (HTTP 5xx, 429). */
        SERVER_ERROR(true),
        /** The endpoint could not be reached (connection refused, unknown host, timeout). */
        UNREACHABLE(true),
        /** The downloaded bytes do not match the announced size or sha256. */
        INTEGRITY(false),
        /** Reading or writing the local disk failed. */
        LOCAL_IO(false);

        private final boolean retryable;

        Reason(boolean retryable) {
            this.retryable = retryable;
        }

        public boolean retryable() {
            return retryable;
        }
    }

    private final Reason reason;
    private final String uri;

    public StorageException(Reason reason, String uri, String detail) {
        this(reason, uri, detail, null);
    }

    public StorageException(Reason reason, String uri, String detail, Throwable cause) {
        super(uri + ": " + detail + " [" + reason + "]", cause);
        this.reason = reason;
        this.uri = uri;
    }

    public Reason reason() {
        return reason;
    }

    /** The URI the operation was about (no credentials are ever part of our URIs). */
    public String uri() {
        return uri;
    }
}
