package io.finetune.trainer.linalg;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Writes a TorchScript module archive (the zip that {@code torch.jit.save} produces) for a module WITHOUT parameters, so
 * Java can run libtorch functions DJL does not expose (SVD, QR) through {@code JniUtils.loadModule}.
 *
 * <p>Layout, as written by PyTorch's {@code torch/csrc/jit/serialization/export_module.cpp} (checked against an archive
 * saved by torch 1.13 on this machine): {@code <name>/data.pkl} (pickle protocol 2 of the module object: its class as a
 * GLOBAL {@code __torch__.<Class>}, built from a dict holding the {@code training} attribute), {@code <name>/code/__torch__.py}
 * (the serialized TorchScript source of the class), {@code <name>/constants.pkl} (an empty tuple) and
 * {@code <name>/version} (file format 3). Entries are STORED; libtorch's reader accepts them uncompressed.
 */
public final class TorchScriptArchive {
    private static final int FILE_FORMAT_VERSION = 3;

    private TorchScriptArchive() {
    }

    /**
     * @param className simple class name declared in {@code source} (e.g. {@code Svd}); the module is {@code __torch__.<className>}
     * @param source    TorchScript source of {@code code/__torch__.py}: one class deriving Module with {@code training : bool}
     */
    public static byte[] write(String className, String source) {
        String root = className.toLowerCase() + "/";
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            stored(zip, root + "data.pkl", dataPickle(className));
            stored(zip, root + "code/__torch__.py", source.getBytes(StandardCharsets.UTF_8));
            stored(zip, root + "constants.pkl", new byte[] {(byte) 0x80, 2, ')', '.'});
            stored(zip, root + "version", (FILE_FORMAT_VERSION + "\n").getBytes(StandardCharsets.US_ASCII));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** Pickle of {@code __torch__.<className>()} with state {"training": False}, as the TorchScript pickler writes it. */
    static byte[] dataPickle(String className) {
        ByteArrayOutputStream p = new ByteArrayOutputStream();
        p.write(0x80); // PROTO
        p.write(2);
        p.write('c'); // GLOBAL module\nname\n
        p.writeBytes(("__torch__\n" + className + "\n").getBytes(StandardCharsets.US_ASCII));
        p.write('q'); // BINPUT 0
        p.write(0);
        p.write(')'); // EMPTY_TUPLE
        p.write(0x81); // NEWOBJ
        p.write('}'); // EMPTY_DICT
        p.write('('); // MARK
        byte[] key = "training".getBytes(StandardCharsets.US_ASCII);
        p.write('X'); // BINUNICODE, 4-byte little-endian length
        p.write(key.length);
        p.write(0);
        p.write(0);
        p.write(0);
        p.writeBytes(key);
        p.write('q'); // BINPUT 1
        p.write(1);
        p.write(0x89); // NEWFALSE
        p.write('u'); // SETITEMS
        p.write('b'); // BUILD
        p.write('q'); // BINPUT 2
        p.write(2);
        p.write('.'); // STOP
        return p.toByteArray();
    }

    private static void stored(ZipOutputStream zip, String name, byte[] data) throws IOException {
        ZipEntry entry = new ZipEntry(name);
        entry.setMethod(ZipEntry.STORED);
        entry.setSize(data.length);
        entry.setCompressedSize(data.length);
        CRC32 crc = new CRC32();
        crc.update(data);
        entry.setCrc(crc.getValue());
        zip.putNextEntry(entry);
        zip.write(data);
        zip.closeEntry();
    }
}
