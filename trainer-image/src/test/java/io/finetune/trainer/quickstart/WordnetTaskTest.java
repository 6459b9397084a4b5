package io.finetune.trainer.quickstart;

import static org.assertj.core.api.Assertions.assertThat;

import io.finetune.trainer.llama2c.RealModel;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** The real-model quick start's task from Debian's wordnet-base: definitions of common nouns, held out by word. */
class WordnetTaskTest {
    @Test
    void definitionsOfCommonNounsSplitByWord() throws Exception {
        Path dir = WordnetTask.DEFAULT_DIR;
        if (!WordnetTask.available(dir)) {
            assertThat(System.getenv(RealModel.REQUIRE_ENV)).as("wordnet-base is required under hack/test.sh")
                    .isNotEqualToIgnoringCase("true");
            Assumptions.abort("wordnet-base is not installed (" + dir + ")");
        }
        WordnetTask.Split split = WordnetTask.build(dir);
        assertThat(split.train().size()).isGreaterThan(3000);
        assertThat(split.eval().size()).isBetween(split.train().size() / 20, split.train().size() / 5);
        Set<String> train = split.train().stream().map(QuickstartTask.Sample::prompt).collect(Collectors.toSet());
        assertThat(train).hasSize(split.train().size());
        assertThat(split.eval()).noneMatch(s -> train.contains(s.prompt()));
        // The most frequent sense's definition, without WordNet's examples (after ';').
        assertThat(split.train()).contains(new QuickstartTask.Sample(WordnetTask.prompt("king"), " a male sovereign"),
                new QuickstartTask.Sample(WordnetTask.prompt("song"), " a short musical composition with words"));
        assertThat(new HashSet<>(split.train())).allMatch(s -> s.completion().startsWith(" ")
                && s.completion().length() <= WordnetTask.MAX_DEFINITION + 1 && !s.completion().contains(";"));
    }
}
