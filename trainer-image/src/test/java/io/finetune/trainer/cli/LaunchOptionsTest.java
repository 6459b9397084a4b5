package io.finetune.trainer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine.ParseResult;

/**
 * {@code run --nproc N} on the command line (no process is launched here): its help, its usage errors before anything
 * starts, and what each rank is told to run.
 */
class LaunchOptionsTest {
    @TempDir
    Path dir;

    @Test
    void helpNamesTheOptionAndThePodsVariables() {
        assertThat(TrainerCliTest.cli("run", "--help").out()).contains("--nproc=N").contains("data-parallel processes");
        assertThat(TrainerCliTest.cli("pod", "--help").out()).contains("PET_NPROC_PER_NODE").contains("FINETUNE_NPROC");
    }

    @Test
    void badCountsAndMissingManifestsFailBeforeAnyRankStarts() {
        Path job = dir.resolve("job.yaml");
        TrainerCliTest.cli("run", job.toString(), "--nproc", "0").usageError("error: run: --nproc 0 must be at least 1");
        TrainerCliTest.cli("run", job.toString(), "--nproc", "-3").usageError("error: run: --nproc -3 must be at least 1");
        TrainerCliTest.cli("run", job.toString(), "--nproc", "two").usageError("run: Invalid value for option '--nproc'");
        TrainerCliTest.cli("run", job.toString(), "--nproc", "2").usageError("run: manifest " + job + " does not exist");
    }

    private RunCommand parsed(String... args) {
        ParseResult result = TrainerCli.commandLine().parseArgs(args);
        return (RunCommand) result.subcommand().commandSpec().userObject();
    }

    @Test
    void everyRankRunsTheSameJobIntoTheSameAbsoluteOutputWithTheSameFlags() throws Exception {
        Path job = Files.writeString(dir.resolve("job.yaml"), "kind: FineTuneJob\n");
        Path relativeOut = Path.of("out", "job");
        assertThat(parsed("run", job.toString(), "--nproc", "2").childArguments(relativeOut)).containsExactly(
                "run", job.toAbsolutePath().toString(), "--output", relativeOut.toAbsolutePath().toString());
        assertThat(parsed("--debug", "run", job.toString(), "--nproc", "2", "--force-new").childArguments(dir))
                .containsExactly("run", job.toAbsolutePath().toString(), "--output", dir.toString(), "--force-new", "--debug");
        assertThat(parsed("run", job.toString(), "--debug").childArguments(dir)).endsWith("--debug");
        assertThat(parsed("run", job.toString()).nproc).as("default: this process trains").isEqualTo(1);
    }

    @Test
    void theBoundAfterAFailureIsTheCollectiveTimeoutAndAMargin() {
        assertThat(Launch.settings(java.time.Duration.ofMinutes(5)).failureGrace()).hasSeconds(330);
    }
}
