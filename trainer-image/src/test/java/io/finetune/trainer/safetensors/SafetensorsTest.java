package io.finetune.trainer.safetensors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {
    @TempDir
    Path dir;

    @Test
    void writtenFileReadsBackWithHuggingFaceLayout() throws IOException {
        Path f = dir.resolve("model.safetensors");
        SafetensorsWriter.write(f, Map.of("b", new FloatTensor(new long[] {2, 3}, new float[] {1, 2, 3, 4, 5, 6}),
                "a", new FloatTensor(new long[] {}, new float[] {7})));
        String header = SafetensorsWriter.headerOf(f);
        assertThat(header.length() % 8).isZero();
        assertThat(header).startsWith("{\"__metadata__\":{\"format\":\"pt\"},\"a\":");
        SafetensorsFile sf = SafetensorsFile.open(f);
        assertThat(sf.metadata()).containsEntry("format", "pt");
        assertThat(sf.read("b").data()).containsExactly(1, 2, 3, 4, 5, 6);
        assertThat(sf.read("b").shape()).containsExactly(2, 3);
        assertThat(sf.read("a").data()).containsExactly(7);
    }

    @Test
    void bf16AndF16AreWidenedToFp32() throws IOException {
        // 1.5 = 0x3FC0 in bf16, 0x3E00 in f16; -2 = 0xC000 in both; f16 subnormal 0x0001 = 2^-24.
        ByteBuffer data = ByteBuffer.allocate(10).order(ByteOrder.LITTLE_ENDIAN);
        data.putShort((short) 0x3FC0).putShort((short) 0xC000);
        data.putShort((short) 0x3E00).putShort((short) 0xC000).putShort((short) 0x0001);
        Path f = raw("{\"x\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[0,4]},"
                + "\"y\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[4,10]}}", data.array());
        SafetensorsFile sf = SafetensorsFile.open(f);
        assertThat(sf.read("x").data()).containsExactly(1.5f, -2f);
        assertThat(sf.read("y").data()).containsExactly(1.5f, -2f, 0x1p-24f);
    }

    @Test
    void malformedHeadersNameTheFileAndTensor() throws IOException {
        Path hole = raw("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", new byte[8]);
        assertThatThrownBy(() -> SafetensorsFile.open(hole)).isInstanceOf(SafetensorsException.class)
                .hasMessageContaining(hole.toString()).hasMessageContaining("'x'").hasMessageContaining("contiguous");
        Path size = raw("{\"x\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", new byte[8]);
        assertThatThrownBy(() -> SafetensorsFile.open(size)).hasMessageContaining("'x'").hasMessageContaining("needs 12");
        Path dup = raw("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", new byte[8]);
        assertThatThrownBy(() -> SafetensorsFile.open(dup)).hasMessageContaining("Duplicate");
        Path i64 = raw("{\"x\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}", new byte[8]);
        assertThatThrownBy(() -> SafetensorsFile.open(i64).read("x")).hasMessageContaining("'x'")
                .hasMessageContaining("supported: F32, F16, BF16");
        Path tooShort = dir.resolve("short.safetensors");
        Files.write(tooShort, new byte[] {(byte) 200, 0, 0, 0, 0, 0, 0, 0, '{', '}'});
        assertThatThrownBy(() -> SafetensorsFile.open(tooShort)).hasMessageContaining("header length 200 is invalid");
    }

    @Test
    void shardedIndexIsFollowedAndMissingTensorsAreNamed() throws IOException {
        SafetensorsWriter.write(dir.resolve("model-00001-of-00002.safetensors"),
                Map.of("w1", new FloatTensor(new long[] {2}, new float[] {1, 2})));
        SafetensorsWriter.write(dir.resolve("model-00002-of-00002.safetensors"),
                Map.of("w2", new FloatTensor(new long[] {1}, new float[] {3})));
        Files.writeString(dir.resolve(ModelWeights.INDEX), "{\"metadata\":{},\"weight_map\":{"
                + "\"w1\":\"model-00001-of-00002.safetensors\",\"w2\":\"model-00002-of-00002.safetensors\"}}");
        ModelWeights w = ModelWeights.open(dir);
        assertThat(w.read("w2", 1).data()).containsExactly(3);
        assertThat(w.read("w1", 2).data()).containsExactly(1, 2);
        assertThatThrownBy(() -> w.read("w3", 1)).hasMessageContaining("missing tensor 'w3'");
        assertThatThrownBy(() -> w.read("w1", 3)).hasMessageContaining("'w1' has shape [2]");
        Files.writeString(dir.resolve(ModelWeights.INDEX), "{\"weight_map\":{\"w1\":\"gone.safetensors\"}}");
        assertThatThrownBy(() -> ModelWeights.open(dir)).hasMessageContaining("'gone.safetensors'");
    }

    private Path raw(String header, byte[] data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).put(data);
        Path f = Files.createTempFile(dir, "t", ".safetensors");
        Files.write(f, b.array());
        return f;
    }
}
