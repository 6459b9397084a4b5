package io.finetune.trainer.data;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.objects.date.StrftimeFormatter;
import java.time.ZonedDateTime;
import java.util.Locale;

/**
 * The globals transformers gives every chat template: {@code raise_exception(message)}, with which a template rejects a
 * conversation it cannot render (Gemma's "System role not supported"), and {@code strftime_now(format)}, the date in
 * Python's strftime format (Llama 3.1 writes "Today Date: 26 Jul 2024" into its system header with it).
 *
 * <p>Static because Jinjava binds functions to static methods; the date comes from the render's context
 * ({@link #NOW}), fixed once per {@link ChatTemplate}, so every record of a run gets the same date (transformers reads the
 * clock per call: the same but for a run that crosses midnight).
 */
final class TemplateFunctions {
    /** The context variable holding the ZonedDateTime that strftime_now formats. */
    static final String NOW = "__finetune_now__";

    private TemplateFunctions() {}

    public static Object raiseException(String message) {
        throw new RaisedByTemplate(message);
    }

    public static String strftimeNow(String format) {
        Object now = JinjavaInterpreter.getCurrent().getContext().get(NOW);
        return StrftimeFormatter.format((ZonedDateTime) now, format, Locale.ENGLISH);
    }

    /** The exception raise_exception throws, so its message can be told apart from Jinjava's own wrapping. */
    static final class RaisedByTemplate extends RuntimeException {
        RaisedByTemplate(String message) {
            super(message);
        }
    }
}
