package io.finetune.trainer.quickstart;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code quickstart --tiny} as a user runs it (the embedded examples/quickstart.yaml, 400 steps of LoRA on the tiny
 * random model and the word-reversal task), in a directory of its own: the README's claim that it learns is checked on what it prints, the held-out
 * eval loss falling and more held-out words reversed exactly after training than before.
 */
class QuickstartTinyTest {
    private static final Pattern LOSS = Pattern.compile("held-out eval loss: ([0-9.]+) -> ([0-9.]+)");
    private static final Pattern EXACT = Pattern.compile("exact match on (\\d+) held-out words \\(greedy\\): (\\d+) before -> (\\d+) after");

    @TempDir
    Path dir;

    @Test
    void theTinyQuickStartLowersTheEvalLossAndReversesMoreWords() throws Exception {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try (PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8)) {
            assertThat(TinyQuickstart.run(out, dir.toString())).isZero();
        }
        String text = buf.toString(StandardCharsets.UTF_8);
        Matcher loss = LOSS.matcher(text);
        assertThat(loss.find()).as(text).isTrue();
        double before = Double.parseDouble(loss.group(1));
        double after = Double.parseDouble(loss.group(2));
        assertThat(after).as("held-out eval loss after training").isLessThan(before * 0.8);
        Matcher exact = EXACT.matcher(text);
        assertThat(exact.find()).as(text).isTrue();
        int scored = Integer.parseInt(exact.group(1));
        int right = Integer.parseInt(exact.group(3));
        assertThat(scored).isPositive();
        assertThat(right).as("held-out words reversed exactly after training").isGreaterThan(Integer.parseInt(exact.group(2)));
    }
}
