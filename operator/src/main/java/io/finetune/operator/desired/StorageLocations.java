package io.finetune.operator.desired;

import io.finetune.api.v1alpha1.FineTuneJobSpec;
import java.util.ArrayList;
import java.util.List;

/** The storage URIs of a spec with the field each comes from and the credentials Secret that goes with it. */
public final class StorageLocations {
    /** One URI the trainer reads or writes. */
    public record Location(String field, String uri, String secretField, String secret, boolean writable) {
        public boolean isPvc() {
            return uri != null && uri.startsWith("pvc://");
        }

        /** Claim name of a pvc://claim/path URI. */
        public String claim() {
            String rest = uri.substring("pvc://".length());
            int slash = rest.indexOf('/');
            return slash < 0 ? rest : rest.substring(0, slash);
        }
    }

    private StorageLocations() {
    }

    /** Every non-empty URI in the spec, in spec order. */
    public static List<Location> of(FineTuneJobSpec spec) {
        List<Location> out = new ArrayList<>();
        if (spec.model != null) {
            add(out, "spec.model.source", spec.model.source, "spec.model.credentialsSecret", spec.model.credentialsSecret, false);
            add(out, "spec.model.tokenizer", spec.model.tokenizer, "spec.model.credentialsSecret", spec.model.credentialsSecret, false);
        }
        if (spec.dataset != null) {
            add(out, "spec.dataset.source", spec.dataset.source, "spec.dataset.credentialsSecret", spec.dataset.credentialsSecret, false);
            add(out, "spec.dataset.evalSource", spec.dataset.evalSource, "spec.dataset.credentialsSecret",
                    spec.dataset.credentialsSecret, false);
        }
        if (spec.output != null) {
            add(out, "spec.output.destination", spec.output.destination, "spec.output.credentialsSecret",
                    spec.output.credentialsSecret, true);
        }
        return out;
    }

    private static void add(List<Location> out, String field, String uri, String secretField, String secret, boolean writable) {
        if (uri != null && !uri.isBlank()) {
            out.add(new Location(field, uri, secretField, secret, writable));
        }
    }
}
