package io.finetune.trainer.pod;

import io.finetune.api.TrainerContract;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Removes credentials from text before it reaches a log line or the termination message (which ends up in the
 * FineTuneJob status, readable by anyone who can read the job).
 *
 * <p>Two kinds of secrets: the values of the credential variables the operator injects from the user's Secret
 * (docs/contracts.md, "Credentials"), wherever they appear; and credentials embedded in URLs (user:password@host, S3 presigned
 * query parameters, bearer tokens), whatever their value.
 */
public final class SecretRedactor {
    /** The credential variables whose values are never printed. */
    public static final List<String> SECRET_VARIABLES =
            TrainerContract.Credentials.SECRET_VALUES;

    private static final Pattern URL_USERINFO = Pattern.compile("(?i)\\b([a-z][a-z0-9+.-]*://)[^/\\s@:]+:[^/\\s@]+@");
    private static final Pattern SIGNED_QUERY = Pattern.compile(
            "(?i)\\b(X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|Signature|AWSAccessKeyId|token|access_token)=[^&\\s\"']+");
    private static final Pattern BEARER = Pattern.compile("(?i)\\b(Bearer)\\s+[A-Za-z0-9._~+/=-]{8,}");
    /** Hugging Face tokens have a recognisable prefix even when they did not come from HF_TOKEN. */
    private static final Pattern HF_TOKEN_SHAPE = Pattern.compile("\\bhf_[A-Za-z0-9]{20,}\\b");

    private final List<Map.Entry<String, String>> values;   // (variable, value), longest value first

    private SecretRedactor(List<Map.Entry<String, String>> values) {
        this.values = values;
    }

    /** Redacts the values that {@link #SECRET_VARIABLES} have in the given environment. */
    public static SecretRedactor fromEnv(Map<String, String> env) {
        List<Map.Entry<String, String>> found = new ArrayList<>();
        for (String key : SECRET_VARIABLES) {
            String v = env.get(key);
            if (v != null && !v.isBlank()) {
                found.add(Map.entry(key, v.strip()));
            }
        }
        // Longest first, so a value that contains another is replaced whole.
        found.sort(Comparator.comparingInt((Map.Entry<String, String> e) -> e.getValue().length()).reversed());
        return new SecretRedactor(List.copyOf(found));
    }

    public static SecretRedactor fromSystem() {
        return fromEnv(System.getenv());
    }

    /** The text with every known secret replaced by a marker naming where it came from; null stays null. */
    public String redact(String text) {
        if (text == null || text.isEmpty()) {
            return text;
        }
        String out = text;
        for (Map.Entry<String, String> e : values) {
            out = out.replace(e.getValue(), "<redacted:" + e.getKey() + ">");
        }
        out = URL_USERINFO.matcher(out).replaceAll(m -> Matcher.quoteReplacement(m.group(1)) + "<redacted>@");
        out = SIGNED_QUERY.matcher(out).replaceAll(m -> Matcher.quoteReplacement(m.group(1)) + "=<redacted>");
        out = BEARER.matcher(out).replaceAll(m -> Matcher.quoteReplacement(m.group(1)) + " <redacted>");
        out = HF_TOKEN_SHAPE.matcher(out).replaceAll("<redacted>");
        return out;
    }
}
