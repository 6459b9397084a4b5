package io.finetune.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.io.IOException;
import java.util.List;
import java.util.stream.Collectors;

/** Validates documents against the committed CRD's openAPIV3Schema with a real JSON-schema validator (draft 4 semantics). */
final class SchemaValidator {
    private final JsonSchema schema;

    SchemaValidator() throws IOException {
        JsonNode crdSchema = Crds.schema(Crds.load(RepoFiles.committedCrd()));
        this.schema = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V4).getSchema(crdSchema);
    }

    /** Violations as "$.spec.method.lora.rank: must have a minimum value of 1" strings; empty when valid. */
    List<String> validate(JsonNode document) {
        return schema.validate(document).stream().map(ValidationMessage::getMessage).sorted().collect(Collectors.toList());
    }
}
