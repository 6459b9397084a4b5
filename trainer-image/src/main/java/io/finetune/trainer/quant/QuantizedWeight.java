package io.finetune.trainer.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.finetune.trainer.arrays.OwnedArrays;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * A 4-bit weight held in libtorch memory (on the model's device): the packed codes as uint8 and the block constants (fp32,
 * or 8-bit codes + fp32 second-level scales + the offset), nothing else. {@link #dequantize} rebuilds the float32 weight
 * in a step's sub-manager, one layer at a time, with the same float32 products as {@link QuantizedTensor#dequantize}:
 * a lookup of both nibbles of each byte in a 256 x 2 table, times the block's absmax (bitsandbytes dequantize_4bit).
 */
public final class QuantizedWeight implements AutoCloseable {
    private static final Map<QuantType, float[]> PAIR_TABLES = new EnumMap<>(Map.of(
            QuantType.NF4, pairTable(QuantType.NF4), QuantType.FP4, pairTable(QuantType.FP4)));
    private static final float[] DYNAMIC_MAP = DynamicMap.signed();
    private final QuantType type;
    private final Shape shape;
    private final long numel;
    private final int blocks;
    private final NDArray packed;      // (ceil(n/2)) uint8
    private final NDArray absmax;      // plain: (blocks, 1) fp32; double-quantized: null
    private final NDArray codes8;      // double-quantized: (blocks) uint8
    private final NDArray scales;      // double-quantized: (groups, 1) fp32
    private final float offset;
    private final long bytes;

    private QuantizedWeight(QuantizedTensor t, NDManager manager) {
        this.type = t.type();
        this.shape = new Shape(t.shape());
        this.numel = t.numel();
        this.blocks = t.constants().blocks();
        this.packed = bytes(manager, t.packed());
        this.bytes = t.bytes();
        if (t.constants() instanceof BlockConstants.DoubleQuantized dq) {
            this.absmax = null;
            this.codes8 = bytes(manager, dq.codes());
            this.scales = OwnedArrays.create(manager, dq.scales(), new Shape(dq.scales().length, 1));
            this.offset = dq.offset();
        } else {
            float[] a = ((BlockConstants.Plain) t.constants()).absmax();
            this.absmax = OwnedArrays.create(manager, a, new Shape(a.length, 1));
            this.codes8 = null;
            this.scales = null;
            this.offset = 0f;
        }
    }

    /** Moves a host-quantized tensor into {@code manager}; the host arrays can be dropped afterwards. */
    public static QuantizedWeight of(QuantizedTensor t, NDManager manager) {
        return new QuantizedWeight(t, manager);
    }

    /** Quantizes {@code data} on the host and keeps only the 4-bit form in {@code manager}. */
    public static QuantizedWeight quantize(String name, float[] data, long[] shape, QuantType type, boolean doubleQuant,
                                           NDManager manager) {
        return of(QuantizedTensor.quantize(name, data, shape, type, doubleQuant), manager);
    }

    public QuantType type() {
        return type;
    }

    public Shape shape() {
        return shape;
    }

    public long numel() {
        return numel;
    }

    /** Bytes of the stored form: codes plus constants. */
    public long bytes() {
        return bytes;
    }

    /** Whether the block constants are double-quantized. */
    public boolean doubleQuantized() {
        return codes8 != null;
    }

    /** The stored arrays (for a step's {@code tempAttach}; nothing else may own them). */
    public List<NDArray> arrays() {
        List<NDArray> all = new ArrayList<>(List.of(packed));
        if (absmax != null) {
            all.add(absmax);
        } else {
            all.add(codes8);
            all.add(scales);
        }
        return all;
    }

    /**
     * The float32 weight ({@link #shape}) in {@code sub}, with no gradient path. Handles that ops on the stored arrays
     * create in their own manager are closed here, so nothing accumulates outside {@code sub}.
     */
    public NDArray dequantize(NDManager sub) {
        // Intermediates (the looked-up levels, the constants) die with the scratch manager: only the weight stays in sub.
        try (NDManager scratch = sub.newSubManager()) {
            NDArray values = lookup(scratch, PAIR_TABLES.get(type), packed, 2).reshape(-1);  // (2 * ceil(n/2))
            NDArray scale = absmax != null ? absmax : blockAbsmax(scratch);                      // (blocks, 1)
            NDArray blocked = padTo(scratch, values, (long) blocks * QuantizedTensor.BLOCK)
                    .reshape(blocks, QuantizedTensor.BLOCK).mul(scale);                          // (blocks, 64)
            NDArray w = blocked.reshape(-1).get(new NDIndex(":" + numel)).reshape(shape);        // (out, in)
            w.attach(sub);
            return w;
        }
    }

    /** DynamicMap[codes8] * scales[b / 256] + offset, (blocks, 1). */
    private NDArray blockAbsmax(NDManager sub) {
        NDArray centred = lookup(sub, DYNAMIC_MAP, codes8, 1).reshape(-1);                      // (blocks)
        long groups = scales.getShape().get(0);
        NDArray scaled = padTo(sub, centred, groups * BlockConstants.SECOND_BLOCK)
                .reshape(groups, BlockConstants.SECOND_BLOCK).mul(scales).reshape(-1);          // (groups * 256)
        NDArray a = scaled.get(new NDIndex(":" + blocks));
        return a.add(sub.full(new Shape(), offset)).reshape(blocks, 1);
    }

    /** table[codes] with a (256, width) table created in {@code sub}: (len(codes), width). */
    private static NDArray lookup(NDManager sub, float[] table, NDArray codes, int width) {
        NDArray t = OwnedArrays.create(sub, table, new Shape(table.length / width, width));
        NDArray index = codes.toType(DataType.INT64, false); // lands in the codes' manager: closed below
        try {
            return t.get(index);
        } finally {
            index.close();
        }
    }

    private static NDArray padTo(NDManager sub, NDArray x, long length) {
        long have = x.getShape().get(0);
        return have == length ? x : x.concat(sub.zeros(new Shape(length - have)));
    }

    /** Row {@code b} holds the levels of byte b's high and low nibble. */
    private static float[] pairTable(QuantType type) {
        float[] t = new float[512];
        for (int b = 0; b < 256; b++) {
            t[2 * b] = type.level(b >>> 4);
            t[2 * b + 1] = type.level(b & 0xF);
        }
        return t;
    }

    private static NDArray bytes(NDManager manager, byte[] data) {
        ByteBuffer buf = ByteBuffer.allocateDirect(data.length);
        buf.put(data).rewind();
        try (NDArray borrowed = manager.create(buf, new Shape(data.length), DataType.UINT8)) {
            return borrowed.duplicate(); // owned by libtorch, not the Java buffer (OwnedArrays)
        }
    }

    @Override
    public void close() {
        for (NDArray a : arrays()) {
            a.close();
        }
    }
}
