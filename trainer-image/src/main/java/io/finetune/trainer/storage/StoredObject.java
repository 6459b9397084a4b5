package io.finetune.trainer.storage;

import java.util.Optional;

/**
 * What a store holds at one URI right after an upload, as the store itself reports it (not what the client sent).
 *
 * @param sizeBytes size in bytes of the stored object or file
 * @param md5 lowercase hex MD5 of the stored bytes where the store states one (an S3 single-part ETag without SSE-KMS/C)
 * @param sha256 lowercase hex sha256 of the stored bytes where it can be computed (local files: read back from disk)
 */
record StoredObject(long sizeBytes, Optional<String> md5, Optional<String> sha256) {
}
