package io.finetune.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * kubectl conventions on the committed CRD: {@code kubectl get ftj} prints NAME PHASE METHOD LOSS PROGRESS AGE (the phase
 * first, AGE last like every built-in resource), in the order declared on FineTuneJob, not fabric8's JSON-path order.
 */
class PrinterColumnsTest {
    private static List<String> committedColumns() throws Exception {
        List<String> names = new ArrayList<>();
        for (JsonNode v : Crds.load(RepoFiles.committedCrd()).path("spec").path("versions")) {
            v.path("additionalPrinterColumns").forEach(c -> names.add(c.path("name").asText()));
        }
        return names;
    }

    @Test
    void phaseFirstAgeLast() throws Exception {
        assertThat(committedColumns()).containsExactly("Phase", "Method", "Loss", "Progress", "Age");
    }

    @Test
    void theCommittedOrderIsTheDeclaredOne() throws Exception {
        assertThat(committedColumns()).isEqualTo(CrdGeneration.declaredOrder());
    }
}
