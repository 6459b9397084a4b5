package io.finetune.trainer.storage;

import io.finetune.trainer.layout.RunLayout;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;

/**
 * Checks a publish against what the store now holds, so a digest is only ever reported for bytes that exist: a store that
 * keeps transfer framing (aws-chunked) as data, truncates a body or loses a file fails the publish with
 * {@link StorageException.Reason#INTEGRITY}, naming the object and both sizes.
 */
final class PublishCheck {
    private PublishCheck() {
    }

    /** Every file of {@code manifest}, before the manifest is written: size always, then sha256 or MD5 where known. */
    static void objects(Store store, RetryPolicy retry, Path localDir, StorageUri dest, Manifest manifest) {
        for (ManifestEntry e : manifest.files()) {
            StorageUri target = dest.child(e.path());
            StoredObject held = retry.call("verify " + target, () -> store.inspect(target));
            if (held.sizeBytes() != e.sizeBytes()) {
                throw mismatch(target, "the store holds " + held.sizeBytes() + " bytes but " + e.sizeBytes()
                        + " bytes were uploaded");
            }
            if (held.sha256().isPresent() && !held.sha256().get().equals(e.sha256())) {
                throw mismatch(target, "the stored " + held.sizeBytes() + " bytes have sha256 " + held.sha256().get()
                        + " but the uploaded " + e.sizeBytes() + " bytes have " + e.sha256());
            }
            if (held.md5().isPresent()) {
                String sent = md5(localDir.resolve(e.path()), target);
                if (!sent.equals(held.md5().get())) {
                    throw mismatch(target, "the stored " + held.sizeBytes() + " bytes have MD5 (ETag) " + held.md5().get()
                            + " but the uploaded " + e.sizeBytes() + " bytes have " + sent);
                }
            }
        }
    }

    /** The manifest as read back after writing it must be the exact bytes whose sha256 becomes the artifact digest. */
    static void manifest(StorageUri manifestUri, byte[] uploaded, byte[] stored) {
        if (!Arrays.equals(uploaded, stored)) {
            throw mismatch(manifestUri, "read back " + stored.length + " bytes that differ from the " + uploaded.length
                    + " bytes uploaded");
        }
    }

    private static StorageException mismatch(StorageUri uri, String detail) {
        return new StorageException(StorageException.Reason.INTEGRITY, uri.raw(), "publish verification failed: " + detail
                + "; the store did not keep the bytes it was sent, so no " + RunLayout.MANIFEST
                + " (no artifact) was written");
    }

    static String md5(Path file, StorageUri target) {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("MD5");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
            return Manifest.hex(md.digest());
        } catch (IOException e) {
            throw new StorageException(StorageException.Reason.LOCAL_IO, target.raw(), "cannot read " + file + ": " + e, e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("JDK without MD5", e);
        }
    }
}
