package io.finetune.trainer.cli;

import io.finetune.api.TrainerResult;
import io.finetune.trainer.failure.ExitClass;
import io.finetune.trainer.failure.UsageException;
import io.finetune.trainer.train.TrainingStoppedException;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * The trainer's command line: one subcommand per task, each with its own {@code --help}. Usage errors and exit codes are
 * decided here, for picocli's parse errors and the commands' own failures alike: every failure prints exactly one
 * {@code error:} line ({@link ErrorReport}) and exits by class; usage errors add the command's help; a SIGTERM during
 * training exits 75 ({@link TrainerResult#PREEMPTED_EXIT_CODE}) after a checkpoint at the step reached (the same command resumes
 * there).
 */
@Command(name = "java -jar finetune-trainer.jar", synopsisSubcommandLabel = "<command>",
        description = "Fine-tunes a LLaMA-family model as a FineTuneJob describes it: on this machine (run), or in the pod the"
                + " operator starts (pod).",
        subcommands = {RunCommand.class, InitModel.class, Quickstart.class, PodCommand.class, PlanCommand.class,
            PreflightCommand.class, ImportLlama2cCommand.class, Generate.class, HelpCommand.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            " 0:done",
            " 1:internal error (rerun with --debug and report it)",
            " 2:usage (the command line)",
            " 3:bad input (manifest, model, tokenizer, data, storage location, output)",
            " 4:resources (out of memory, disk full, storage unreachable)",
            "75:stopped by SIGTERM after a checkpoint (run the same command to resume)"})
public final class TrainerCli implements Callable<Integer> {
    /** Every command takes it; the error handlers read it from the arguments, since they also run when parsing fails. */
    @Option(names = "--debug", scope = ScopeType.INHERIT,
            description = "print the stack trace of a failure (also FINETUNE_DEBUG=1)")
    boolean debug;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = HELP)
    boolean help;

    private static final String HELP = "show this help and exit";

    /** The class whose main runs this command line: what a launcher's children run (null: this program cannot launch). */
    final Class<?> program;

    TrainerCli() {
        this(null);
    }

    private TrainerCli(Class<?> program) {
        this.program = program;
    }

    /** Runs the command line; returns the process exit code. Output goes to System.out and System.err as they are now. */
    public static int execute(String... argv) {
        return execute(null, argv);
    }

    /**
     * As {@link #execute(String...)}, for the program whose main is {@code program}: {@code run --nproc} and a
     * multi-process {@code pod} start their ranks as that class's main again (the process's own entry point names itself,
     * so this package does not name it).
     */
    public static int execute(Class<?> program, String[] argv) {
        boolean debug = ErrorReport.debugFromEnv(System.getenv()) || Arrays.asList(argv).contains("--debug");
        CommandLine cli = null;
        try {
            cli = commandLine(program);
            cli.setParameterExceptionHandler((e, args) -> usageError(e, debug));
            cli.setExecutionExceptionHandler((e, command, parsed) -> failed(e, command, debug));
            return cli.execute(argv);
        } catch (Throwable e) {   // an Error (OutOfMemoryError) passes picocli's handlers; the user still gets the one line
            return failed(e, cli, debug);
        }
    }

    static CommandLine commandLine() {
        return commandLine(null);
    }

    private static CommandLine commandLine(Class<?> program) {
        CommandLine cli = new CommandLine(new TrainerCli(program))
                .setOverwrittenOptionsAllowed(true)   // "--seed 1 --seed 2": the last one counts
                .setExpandAtFiles(false);              // "@notes.txt" is an argument, not a file of arguments
        for (CommandLine command : cli.getSubcommands().values()) {
            if (!(command.getCommand() instanceof HelpCommand)) {   // "help" has its own -h
                command.getCommandSpec().addOption(OptionSpec.builder("-h", "--help").usageHelp(true).description(HELP).build());
            }
        }
        return cli;
    }

    /** No command given. */
    @Override
    public Integer call() {
        throw new UsageException("missing command");
    }

    /** Picocli could not parse the command line. */
    private static int usageError(ParameterException e, boolean debug) {
        CommandLine command = e.getCommandLine();
        String message;
        if (command.getParent() == null && e instanceof UnmatchedArgumentException u && !u.getUnmatched().isEmpty()
                && !u.getUnmatched().get(0).startsWith("-")) {
            message = "unknown command '" + u.getUnmatched().get(0) + "'";
        } else {
            message = (command.getParent() == null ? "" : command.getCommandName() + ": ") + ErrorReport.text(e);
        }
        int code = new ErrorReport(ExitClass.USAGE, message).print(e, System.err, debug);
        UnmatchedArgumentException.printSuggestions(e, System.err);
        command.usage(System.err);
        return code;
    }

    /** A command failed: one line and an exit code by class; a usage error also shows the command's help. */
    private static int failed(Throwable e, CommandLine command, boolean debug) {
        PrintStream err = System.err;
        if (e instanceof TrainingStoppedException) {
            err.println("stopped: " + e.getMessage());
            return TrainerResult.PREEMPTED_EXIT_CODE;
        }
        ErrorReport report = ErrorReport.of(e);
        int code = report.print(e, err, debug);
        if (report.exitClass() == ExitClass.USAGE && command != null) {
            command.usage(err);
        }
        return code;
    }
}
