package io.finetune.trainer.cli;

import io.finetune.trainer.CliCapture;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command line itself (no training): every command answers {@code --help}; every usage error, whether picocli's or a
 * command's own, is one {@code error:} line, exit 2 and that command's help, without a stack trace unless asked for.
 */
class TrainerCliTest {
    static final List<String> COMMANDS = List.of("run", "init-model", "quickstart", "pod", "plan", "preflight",
            "import-llama2c", "generate");

    @TempDir
    Path dir;

    record Outcome(int code, String out, String err) {
        List<String> errorLines() {
            return err.lines().filter(l -> l.startsWith("error: ")).toList();
        }

        Outcome usageError(String what) {
            assertThat(code).as(err).isEqualTo(2);
            assertThat(errorLines()).as(err).singleElement().asString().contains(what);
            assertThat(err).as("no stack trace without --debug").doesNotContain("\tat ").contains("Usage: ");
            assertThat(out).isEmpty();
            return this;
        }
    }

    static Outcome cli(String... args) {
        CliCapture.Result r = CliCapture.run(args);
        return new Outcome(r.code(), r.out(), r.err());
    }

    @Test
    void topLevelHelpListsEveryCommandAndTheExitCodes() {
        for (String help : new String[] {"--help", "-h", "help"}) {
            Outcome o = cli(help);
            assertThat(o.code()).as(help).isZero();
            assertThat(o.err()).isEmpty();
            for (String command : COMMANDS) {
                assertThat(o.out()).as(help).containsPattern("(?m)^  " + command + " ");
            }
            assertThat(o.out()).contains("Exit codes:").containsPattern("(?m)^ +75 +stopped by SIGTERM");
        }
    }

    @Test
    void everyCommandHasItsOwnHelp() {
        for (String command : COMMANDS) {
            for (Outcome o : List.of(cli(command, "--help"), cli(command, "-h"), cli("help", command))) {
                assertThat(o.code()).as(command).isZero();
                assertThat(o.out()).as(command).startsWith("Usage: java -jar finetune-trainer.jar " + command)
                        .contains("--debug");
            }
        }
        assertThat(cli("run", "--help").out()).contains("<FineTuneJob.yaml>").contains("--output=DIR").contains("--force-new");
        assertThat(cli("generate", "--help").out()).contains("--max-new-tokens=N").contains("default: 64");
        assertThat(cli("quickstart", "--help").out()).containsPattern("--tiny +skip stories15M");
    }

    @Test
    void usageErrorsAreOneLineExitTwoAndTheCommandsHelp() {
        cli().usageError("error: missing command");
        cli("frob").usageError("error: unknown command 'frob'");
        cli("run", "--bogus", "job.yaml").usageError("error: run: Unknown option: '--bogus'")
                .err().contains("Usage: java -jar finetune-trainer.jar run");
        cli("run").usageError("run: Missing required parameter: '<FineTuneJob.yaml>'");
        cli("run", "a.yaml", "b.yaml").usageError("run: Unmatched argument");
        cli("run", dir.resolve("job.yaml").toString(), "--output").usageError("run: Missing required parameter for option '--output'");
        cli("init-model", "--seed", "x", "--output", dir.toString()).usageError("init-model: Invalid value for option '--seed'");
        cli("init-model", "--preset", "tiny").usageError("init-model: Missing required option: '--output=DIR'");
        cli("generate", "--model", dir.toString(), "--prompt", "x", "--temperature", "NaN")
                .usageError("generate: --temperature must be a number, got 'NaN'");
        cli("plan", dir.resolve("none.yaml").toString()).usageError("plan: manifest " + dir.resolve("none.yaml") + " does not exist")
                .err().contains("Usage: java -jar finetune-trainer.jar plan");
        cli("preflight", "--gpu-memory", "80Gi").usageError("preflight: expected exactly one FineTuneJob manifest");
        cli("import-llama2c", "model.bin").usageError("import-llama2c: Missing required");
        cli("quickstart", "--tiny=maybe").usageError("quickstart: Invalid value for option '--tiny'");
    }

    @Test
    void debugIsAcceptedAnywhereAndAddsTheStackTrace() {
        Outcome quiet = cli("plan", dir.resolve("none.yaml").toString());
        Outcome before = cli("--debug", "plan", dir.resolve("none.yaml").toString());
        Outcome after = cli("plan", dir.resolve("none.yaml").toString(), "--debug");
        assertThat(quiet.err()).doesNotContain("\tat ");
        for (Outcome o : List.of(before, after)) {
            assertThat(o.code()).isEqualTo(2);
            assertThat(o.errorLines()).singleElement().asString().contains("does not exist");
            assertThat(o.err()).contains("\tat ");
        }
        Outcome parse = cli("run", "--bogus", "--debug");
        assertThat(parse.code()).isEqualTo(2);
        assertThat(parse.errorLines()).hasSize(1);
        assertThat(parse.err()).contains("\tat ");
    }

    @Test
    void optionValuesKeepTheirOldSpellingsAndMeaning() {
        // a negative number is an option's value, not an option; the last of a repeated option counts; "@x" is literal
        cli("generate", "--model", dir.toString(), "--prompt", "x", "--temperature", "-1")
                .usageError("generate: --max-new-tokens must be >= 1 and --temperature >= 0");
        cli("generate", "--model", dir.toString(), "--prompt", "x", "--max-new-tokens", "5", "--max-new-tokens", "0")
                .usageError("generate: --max-new-tokens must be >= 1");
        cli("generate", "--model", dir.resolve("nope").toString(), "--prompt", "@" + dir)
                .usageError("generate: --model " + dir.resolve("nope") + " is not a directory");
    }
}
