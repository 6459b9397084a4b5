package io.finetune.trainer.safetensors;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Streaming reader for one .safetensors file (layout: huggingface/safetensors README and src/tensor.rs): u64 LE header length N,
 * N bytes of JSON, then the data buffer. Only the header is held in memory; a tensor's bytes are read on demand with long
 * offsets (DJL's decoder uses int offsets and cannot hold BF16, see platform.md) and widened to fp32 in Java.
 */
public final class SafetensorsFile {
    /** Readers reject larger headers (safetensors MAX_HEADER_SIZE). */
    static final long MAX_HEADER = 100_000_000L;
    private static final ObjectMapper JSON = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    private static final Map<String, Integer> BITS = bitsTable();
    private static final int CHUNK = 1 << 22;

    private final Path file;
    private final Map<String, TensorInfo> tensors;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path file, Map<String, TensorInfo> tensors, Map<String, String> metadata) {
        this.file = file;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    /** Reads and checks the header (offsets contiguous, sizes match dtype x shape, no duplicates). */
    public static SafetensorsFile open(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new SafetensorsException(file + ": not a safetensors file (" + size + " bytes, need at least 8)");
            }
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0);
            long n = lenBuf.flip().getLong();
            if (n < 2 || n > MAX_HEADER || n > size - 8) {
                throw new SafetensorsException(file + ": header length " + Long.toUnsignedString(n)
                        + " is invalid (file is " + size + " bytes, limit " + MAX_HEADER + ")");
            }
            ByteBuffer hb = ByteBuffer.allocate((int) n);
            readFully(ch, hb, 8);
            String header = new String(hb.array(), StandardCharsets.UTF_8);
            if (!header.startsWith("{")) {
                throw new SafetensorsException(file + ": header does not start with '{'");
            }
            JsonNode root;
            try {
                root = JSON.readTree(header);
            } catch (IOException e) {
                throw new SafetensorsException(file + ": header is not valid JSON: " + e.getMessage());
            }
            return parseHeader(file, root, 8 + n, size - 8 - n);
        }
    }

    private static SafetensorsFile parseHeader(Path file, JsonNode root, long dataStart, long dataLen) throws SafetensorsException {
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        List<long[]> ranges = new ArrayList<>();
        List<String> rangeNames = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String name = e.getKey();
            JsonNode v = e.getValue();
            if (name.equals("__metadata__")) {
                v.fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
                continue;
            }
            String where = file + ": tensor '" + name + "'";
            String dtypeName = v.path("dtype").asText(null);
            Integer bits = dtypeName == null ? null : BITS.get(dtypeName);
            if (bits == null) {
                throw new SafetensorsException(where + ": unknown dtype " + dtypeName);
            }
            JsonNode shapeNode = v.path("shape");
            JsonNode off = v.path("data_offsets");
            if (!shapeNode.isArray() || !off.isArray() || off.size() != 2) {
                throw new SafetensorsException(where + ": needs 'shape' and 'data_offsets' [begin, end]");
            }
            long[] shape = new long[shapeNode.size()];
            long numel = 1;
            for (int i = 0; i < shape.length; i++) {
                shape[i] = shapeNode.get(i).asLong(-1);
                if (shape[i] < 0) {
                    throw new SafetensorsException(where + ": negative or non-integer dimension in shape " + shapeNode);
                }
                numel = Math.multiplyExact(numel, shape[i]);
            }
            long begin = off.get(0).asLong(-1);
            long end = off.get(1).asLong(-1);
            if (begin < 0 || end < begin || end > dataLen) {
                throw new SafetensorsException(where + ": data_offsets " + off + " outside the data buffer of " + dataLen + " bytes");
            }
            if ((end - begin) * 8 != numel * bits) {
                throw new SafetensorsException(where + ": " + (end - begin) + " bytes but " + dtypeName + " " + shapeNode
                        + " needs " + numel * bits / 8);
            }
            ranges.add(new long[] {begin, end});
            rangeNames.add(name);
            DType dtype = DType.parse(dtypeName).orElse(null);
            tensors.put(name, new TensorInfo(name, dtype, shape, file, dataStart + begin, dataStart + end));
        }
        checkContiguous(file, ranges, rangeNames, dataLen);
        return new SafetensorsFile(file, tensors, metadata);
    }

    private static void checkContiguous(Path file, List<long[]> ranges, List<String> names, long dataLen)
            throws SafetensorsException {
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < ranges.size(); i++) {
            order.add(i);
        }
        order.sort(Comparator.comparingLong((Integer i) -> ranges.get(i)[0]).thenComparingLong(i -> ranges.get(i)[1]));
        long expected = 0;
        for (int i : order) {
            if (ranges.get(i)[0] != expected) {
                throw new SafetensorsException(file + ": tensor '" + names.get(i) + "' starts at " + ranges.get(i)[0]
                        + ", expected " + expected + " (data offsets must be contiguous, without holes or overlaps)");
            }
            expected = ranges.get(i)[1];
        }
        if (expected != dataLen) {
            throw new SafetensorsException(file + ": tensors cover " + expected + " bytes but the data buffer has " + dataLen);
        }
    }

    public Path file() {
        return file;
    }

    public Map<String, TensorInfo> tensors() {
        return tensors;
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    /** Reads a tensor and widens it to fp32. */
    public FloatTensor read(String name) throws IOException {
        TensorInfo info = tensors.get(name);
        if (info == null) {
            throw new SafetensorsException(file + ": no tensor '" + name + "'");
        }
        return read(info);
    }

    /** Reads a tensor in chunks (no whole-file buffer) and widens F16/BF16 to fp32. */
    public static FloatTensor read(TensorInfo info) throws IOException {
        if (info.dtype() == null) {
            throw new SafetensorsException(info.file() + ": tensor '" + info.name() + "' has a dtype this trainer cannot load"
                    + " (supported: F32, F16, BF16)");
        }
        long numel = info.numel();
        if (numel > Integer.MAX_VALUE - 8) {
            throw new SafetensorsException(info.file() + ": tensor '" + info.name() + "' has " + numel + " elements (limit 2^31)");
        }
        float[] out = new float[(int) numel];
        int width = info.dtype().bytes();
        try (FileChannel ch = FileChannel.open(info.file(), StandardOpenOption.READ)) {
            ByteBuffer buf = ByteBuffer.allocate(CHUNK - CHUNK % 4).order(ByteOrder.LITTLE_ENDIAN);
            long pos = info.start();
            int idx = 0;
            while (pos < info.end()) {
                buf.clear();
                buf.limit((int) Math.min(buf.capacity(), info.end() - pos));
                readFully(ch, buf, pos);
                pos += buf.limit();
                buf.flip();
                while (buf.remaining() >= width) {
                    out[idx++] = switch (info.dtype()) {
                        case F32 -> buf.getFloat();
                        case F16 -> halfToFloat(buf.getShort());
                        case BF16 -> Float.intBitsToFloat((buf.getShort() & 0xffff) << 16);
                    };
                }
            }
        }
        return new FloatTensor(info.shape(), out);
    }

    /** IEEE 754 binary16 -> binary32 (Float.float16ToFloat is Java 20+). */
    static float halfToFloat(short h) {
        int bits = h & 0xffff;
        int sign = (bits & 0x8000) << 16;
        int exp = (bits >>> 10) & 0x1f;
        int mant = bits & 0x3ff;
        if (exp == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        }
        if (exp == 0) {
            float v = mant * 0x1p-24f; // subnormal: mant * 2^-24
            return sign != 0 ? -v : v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
        while (buf.hasRemaining()) {
            int r = ch.read(buf, pos);
            if (r < 0) {
                throw new SafetensorsException("unexpected end of file");
            }
            pos += r;
        }
    }

    private static Map<String, Integer> bitsTable() {
        Map<String, Integer> m = new LinkedHashMap<>();
        for (String s : List.of("BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0", "F8_E4M3FNUZ", "F8_E5M2FNUZ")) {
            m.put(s, 8);
        }
        m.put("F4", 4);
        m.put("F6_E2M3", 6);
        m.put("F6_E3M2", 6);
        for (String s : List.of("I16", "U16", "F16", "BF16")) {
            m.put(s, 16);
        }
        for (String s : List.of("I32", "U32", "F32")) {
            m.put(s, 32);
        }
        for (String s : List.of("C64", "F64", "I64", "U64")) {
            m.put(s, 64);
        }
        return m;
    }
}
