package io.finetune.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** docs/reference/finetunejob.md is exactly what ReferenceDocs generates from the committed CRD (like CrdInSyncTest for crds/). */
class ReferenceDocsTest {
    private static String generated;

    /** Generated once per run: the CRD does not change while the tests run. */
    private static synchronized String generated() throws Exception {
        if (generated == null) {
            generated = ReferenceDocs.generate(RepoFiles.committedCrd());
        }
        return generated;
    }

    private static Path committedDocs() {
        return RepoFiles.root().resolve("docs/reference/finetunejob.md");
    }

    @Test
    void committedReferenceMatchesTheCrd() throws Exception {
        String generated = generated();
        if (Boolean.getBoolean("docs.update")) {
            Files.createDirectories(committedDocs().getParent());
            Files.writeString(committedDocs(), generated);
        }
        assertThat(committedDocs()).as("docs/reference/finetunejob.md exists").exists();
        assertThat(Files.readString(committedDocs()))
                .as("docs/reference/finetunejob.md is out of date: regenerate it with "
                        + "`mvn -pl api test -Dtest=ReferenceDocsTest -Ddocs.update=true` and commit it")
                .isEqualTo(generated);
    }

    @Test
    void everyFieldOfTheCrdHasARow() throws Exception {
        String docs = generated();
        var crd = Crds.load(RepoFiles.committedCrd());
        var missing = new java.util.ArrayList<String>();
        Crds.walkProperties(Crds.schema(crd), "", (path, node) -> {
            String parent = path.substring(0, path.lastIndexOf('.'));
            String field = path.substring(path.lastIndexOf('.') + 1);
            int section = parent.isEmpty() ? 0 : docs.indexOf("## `" + parent + "`\n");
            int next = section < 0 ? -1 : docs.indexOf("\n## ", section + 1);
            String body = section < 0 ? "" : docs.substring(section, next < 0 ? docs.length() : next);
            if (!parent.isEmpty() && !body.contains("| `" + field + "` |")) {
                missing.add(path);
            }
        });
        assertThat(missing).as("fields without a row in the reference").isEmpty();
    }

    @Test
    void rowsCarryTypeRequiredDefaultBoundsAndPattern() throws Exception {
        String docs = generated();
        // Spot checks on fields a user looks up: a bound, a required field, an enum, a default from the description.
        assertThat(row(docs, ".spec.resources", "gpus")).contains("| integer |", "| no |", "| 1 |", ">= 0; <= 64");
        assertThat(row(docs, ".spec", "model")).contains("| object |", "| yes |");
        assertThat(row(docs, ".spec.dataset", "format")).contains("one of `chat`", "`prompt-completion`", "`text`");
        assertThat(row(docs, ".spec.model", "source")).contains("pattern `^(pvc://", "\\|s3://");
        assertThat(docs).contains("(spec.dataset: set evalSource or evalFraction, not both)");
    }

    private static String row(String docs, String section, String field) {
        int s = docs.indexOf("## `" + section + "`\n");
        assertThat(s).as("section " + section).isNotNegative();
        int r = docs.indexOf("| `" + field + "` |", s);
        assertThat(r).as("row " + section + "." + field).isNotNegative();
        return docs.substring(r, docs.indexOf('\n', r));
    }
}
