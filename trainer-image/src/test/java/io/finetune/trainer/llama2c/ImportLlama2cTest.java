package io.finetune.trainer.llama2c;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import io.finetune.trainer.data.Batch;
import io.finetune.trainer.model.ForwardContext;
import io.finetune.trainer.model.ModelConfig;
import io.finetune.trainer.model.LlamaModel;
import io.finetune.trainer.model.ModelException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** import-llama2c on small random llama2.c checkpoints (no download): same logits as an independent llama2.c forward. */
class ImportLlama2cTest {
    @TempDir
    Path dir;

    /** A random llama2.c legacy checkpoint: dim 32, hidden 48, 2 layers, 4 heads over 2 kv heads (GQA), vocab 40. */
    static Path checkpoint(Path file, boolean shared, long seed) throws IOException {
        int dim = 32, hidden = 48, layers = 2, heads = 4, kvHeads = 2, vocab = 40, seq = 16;
        int hs = dim / heads;
        int kvDim = kvHeads * hs;
        long floats = (long) vocab * dim + layers * dim + 2L * layers * dim * dim + 2L * layers * kvDim * dim
                + layers * dim + 3L * layers * hidden * dim + dim + (long) seq * hs + (shared ? 0 : (long) vocab * dim);
        ByteBuffer b = ByteBuffer.allocate(28 + (int) floats * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : new int[] {dim, hidden, layers, heads, kvHeads, shared ? vocab : -vocab, seq}) {
            b.putInt(v);
        }
        Random rng = new Random(seed);
        for (long i = 0; i < floats; i++) {
            b.putFloat((float) (rng.nextGaussian() * 0.3));
        }
        Files.write(file, b.array());
        return file;
    }

    /** A tokenizer.bin as llama2.c's tokenizer.py exports it (▁ written as a space, bos/eos as "\n<s>\n"/"\n</s>\n"). */
    static Path tokenizer(Path file, List<String> pieces) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(16);
        out.write(b.array());
        for (int i = 0; i < pieces.size(); i++) {
            byte[] bytes = pieces.get(i).getBytes(StandardCharsets.UTF_8);
            out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(-i).putInt(bytes.length).array());
            out.write(bytes);
        }
        Files.write(file, out.toByteArray());
        return file;
    }

    static List<String> pieces(int vocab) {
        List<String> p = new java.util.ArrayList<>(List.of("<unk>", "\n<s>\n", "\n</s>\n"));
        String letters = "abcdefghijklmnopqrstuvwxyz";
        for (int i = 0; p.size() < vocab; i++) {
            p.add(i < letters.length() ? String.valueOf(letters.charAt(i)) : " " + letters.charAt(i - letters.length()));
        }
        return p;
    }

    @Test
    void importedModelComputesTheSameLogitsAsTheLlama2cForwardTiedAndUntied() throws IOException {
        for (boolean shared : new boolean[] {true, false}) {
            Path bin = checkpoint(dir.resolve("model-" + shared + ".bin"), shared, 3);
            Path out = dir.resolve("hf-" + shared);
            ModelConfig config = ImportLlama2c.convert(bin, tokenizer(dir.resolve("tok.bin"), pieces(40)), out);
            assertThat(config.tieWordEmbeddings()).isEqualTo(shared);
            assertThat(config.numKeyValueHeads()).isEqualTo(2);
            assertThat(Files.exists(out.resolve("tokenizer_config.json"))).isTrue();
            int[] tokens = {1, 5, 17, 3, 39, 22, 8, 8, 30, 2, 11};
            double[][] expected = new Llama2cReference(bin).logits(tokens);
            try (LlamaModel model = LlamaModel.load(out, NDManager.newBaseManager());
                 NDManager sub = model.manager().newSubManager()) {
                model.attachTo(sub);
                float[] got = model.forward(sub, Batch.ofSequences(new int[][] {tokens}, 0), ForwardContext.EVAL)
                        .toFloatArray();
                assertThat(maxAbsDiff(expected, got)).as("tied=" + shared).isLessThan(1e-4);
            }
        }
    }

    @Test
    void rotaryPermutationMovesEvenRowsToTheFirstHalfOfEachHead() {
        float[] w = new float[8 * 3];
        for (int i = 0; i < w.length; i++) {
            w[i] = i;
        }
        // 2 heads of head_dim 4, 3 inputs: rows (0,1,2,3) -> (0,2,1,3) per head, as HF's permute does.
        float[] p = Llama2cCheckpoint.permuteRotary(w, 2, 3);
        int[] order = {0, 2, 1, 3, 4, 6, 5, 7};
        for (int r = 0; r < 8; r++) {
            assertThat(p[r * 3]).isEqualTo(order[r] * 3f);
        }
    }

    @Test
    void aTruncatedCheckpointOrAMismatchedTokenizerIsAClearError() throws IOException {
        Path bin = checkpoint(dir.resolve("m.bin"), true, 1);
        byte[] bytes = Files.readAllBytes(bin);
        Path cut = dir.resolve("cut.bin");
        Files.write(cut, java.util.Arrays.copyOf(bytes, bytes.length - 100));
        Path tok = tokenizer(dir.resolve("t.bin"), pieces(40));
        assertThatThrownBy(() -> ImportLlama2c.convert(cut, tok, dir.resolve("o1")))
                .isInstanceOf(ModelException.class).hasMessageContaining("cut.bin").hasMessageContaining("needs");
        Path small = tokenizer(dir.resolve("t30.bin"), pieces(30));
        assertThatThrownBy(() -> ImportLlama2c.convert(bin, small, dir.resolve("o2")))
                .isInstanceOf(ModelException.class).hasMessageContaining("t30.bin").hasMessageContaining("vocab_size is 40");
        assertThat(Files.exists(dir.resolve("o2").resolve("model.safetensors"))).isFalse();
    }

    static double maxAbsDiff(double[][] expected, float[] got) {
        double max = 0;
        int v = expected[0].length;
        for (int t = 0; t < expected.length; t++) {
            for (int i = 0; i < v; i++) {
                max = Math.max(max, Math.abs(expected[t][i] - got[t * v + i]));
            }
        }
        return max;
    }
}
