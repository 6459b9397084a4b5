package io.finetune.api.v1alpha1;

/** The storage URI forms a FineTuneJob accepts, as one regular expression shared by the CRD schema and the validator. */
public final class Uris {
    /**
     * pvc://claim/path, s3://bucket/prefix, https:// (and http:// for in-cluster mirrors), hf://org/name[@revision], file:///abs/path.
     */
    public static final String PATTERN = "^(pvc://[a-z0-9]([-a-z0-9]*[a-z0-9])?(/.*)?"
            + "|s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?"
            + "|https?://[^/\\s]+(/.*)?"
            + "|hf://[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*(@[A-Za-z0-9._/-]+)?"
            + "|file:///.*)$";

    public static final String SCHEMES = "pvc://, s3://, https://, http://, hf://, file://";

    private Uris() {
    }
}
