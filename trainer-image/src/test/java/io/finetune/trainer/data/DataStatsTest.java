package io.finetune.trainer.data;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.finetune.api.v1alpha1.DatasetFormat;
import org.junit.jupiter.api.Test;

class DataStatsTest {
    @Test
    void serialisesWithTheFormatNameUsersWriteInTheSpecAndReadsBack() throws Exception {
        ObjectMapper json = new ObjectMapper();
        DataStats stats = new DataStats(DatasetFormat.PROMPT_COMPLETION, 10, 9, 1, 2, 3, 4, 500L, 200L);
        JsonNode tree = json.readTree(json.writeValueAsString(stats));
        assertThat(tree.get("format").asText()).isEqualTo("prompt-completion");
        assertThat(tree.get("skippedInvalid").asInt()).isEqualTo(2);
        assertThat(tree.get("lossTokens").asLong()).isEqualTo(200L);
        assertThat(json.readValue(json.writeValueAsString(stats), DataStats.class)).isEqualTo(stats);
    }
}
