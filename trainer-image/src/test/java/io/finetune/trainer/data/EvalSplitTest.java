package io.finetune.trainer.data;

import static org.assertj.core.api.Assertions.assertThat;

import io.finetune.api.v1alpha1.DatasetSpec;
import io.finetune.trainer.Specs;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EvalSplitTest {
    @TempDir
    Path dir;
    TextTokenizer tok;
    Path train;

    @BeforeEach
    void setUp() throws IOException {
        tok = DataFixtures.charTokenizer(dir, DataFixtures.ALPHABET, false);
        // 40 distinct records: "a", "b", ..., "ab", "bb", ...
        List<String> lines = IntStream.range(0, 40).mapToObj(i -> "{\"text\": \"" + name(i) + "\"}").toList();
        train = DataFixtures.jsonl(dir, "train.jsonl", lines);
    }

    @AfterEach
    void close() {
        tok.close();
    }

    static String name(int i) {
        return "" + DataFixtures.LETTERS.charAt(i % 26) + (i >= 26 ? DataFixtures.LETTERS.charAt(i / 26) : "");
    }

    private Set<String> texts(List<Example> examples) {
        Set<String> out = new HashSet<>();
        examples.forEach(e -> out.add(tok.decode(e.inputIds())));
        return out;
    }

    @Test
    void defaultFractionHoldsOutTenPercentDeterministicallyAndDisjointly() throws IOException {
        DatasetSpec spec = DataFixtures.spec();
        spec.evalFraction = null;
        LoadedDataset a = DatasetLoader.load(Specs.data(spec), train, null, tok, 7);
        LoadedDataset b = DatasetLoader.load(Specs.data(spec), train, null, tok, 7);
        LoadedDataset c = DatasetLoader.load(Specs.data(spec), train, null, tok, 8);
        assertThat(a.eval()).hasSize(4);
        assertThat(a.train()).hasSize(36);
        assertThat(a.stats().evalRecords()).isEqualTo(4);
        assertThat(a.stats().trainRecords()).isEqualTo(36);
        assertThat(texts(a.eval())).isEqualTo(texts(b.eval()));
        assertThat(texts(a.eval())).isNotEqualTo(texts(c.eval()));
        Set<String> union = new HashSet<>(texts(a.train()));
        union.addAll(texts(a.eval()));
        assertThat(union).hasSize(40);                                  // every record in exactly one part
        assertThat(texts(a.train())).doesNotContainAnyElementsOf(texts(a.eval()));
        assertThat(a.stats().trainTokens()).isEqualTo(a.train().stream().mapToLong(Example::length).sum());
    }

    @Test
    void splitKeepsFileOrderInsideEachPart() throws IOException {
        DatasetSpec spec = DataFixtures.spec();
        spec.evalFraction = 0.25;
        LoadedDataset ds = DatasetLoader.load(Specs.data(spec), train, null, tok, 3);
        List<Integer> positions = new ArrayList<>();
        for (Example e : ds.train()) {
            String text = tok.decode(e.inputIds());
            positions.add(IntStream.range(0, 40).filter(i -> name(i).equals(text)).findFirst().orElseThrow());
        }
        assertThat(positions).isSorted();
        assertThat(ds.eval()).hasSize(10);
    }

    @Test
    void zeroFractionMeansNoEvalAndTinyDatasetsStillGetOneEvalRecord() throws IOException {
        DatasetSpec spec = DataFixtures.spec();
        spec.evalFraction = 0.0;
        assertThat(DatasetLoader.load(Specs.data(spec), train, null, tok, 1).eval()).isEmpty();

        spec.evalFraction = 0.1;
        Path two = DataFixtures.jsonl(dir, "two.jsonl", "{\"text\": \"a\"}", "{\"text\": \"b\"}");
        LoadedDataset ds = DatasetLoader.load(Specs.data(spec), two, null, tok, 1);
        assertThat(ds.eval()).hasSize(1);
        assertThat(ds.train()).hasSize(1);
    }

    @Test
    void evalFileIsUsedAsIsAndTrainIsNotSplit() throws IOException {
        Path eval = DataFixtures.jsonl(dir, "eval.jsonl", "{\"text\": \"zz\"}", "{\"text\": \"yy\"}");
        DatasetSpec spec = DataFixtures.spec();
        spec.evalFraction = null;
        LoadedDataset ds = DatasetLoader.load(Specs.data(spec), train, eval, tok, 1);
        assertThat(ds.train()).hasSize(40);
        assertThat(texts(ds.eval())).containsExactlyInAnyOrder("zz", "yy");
        assertThat(ds.stats().records()).isEqualTo(42);
    }
}
