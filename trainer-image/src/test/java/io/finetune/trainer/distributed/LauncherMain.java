package io.finetune.trainer.distributed;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A launcher process for the signal tests, as {@code run --nproc} is one: {@code LauncherMain N SECONDS SCENARIO...} starts
 * N {@link LaunchedChild} ranks on 127.0.0.1 with {@link LauncherSignals} installed and exits with the launch's code.
 * SECONDS bounds both the failure grace and the wait after SIGTERM.
 */
public final class LauncherMain {
    private LauncherMain() {
    }

    public static void main(String[] args) throws Exception {
        int n = Integer.parseInt(args[0]);
        Duration bound = Duration.ofSeconds(Long.parseLong(args[1]));
        List<String> scenario = List.of(args).subList(2, args.length);
        LaunchPlan plan = LaunchPlan.resolve(NodeTopology.standalone(n), System.getenv(), 2, LaunchPlan.ThreadBudget.PER_PROCESS_WHEN_SET);
        Launcher launcher = new Launcher(Launcher.children(plan, LauncherTests.childCommand(scenario), System.getenv(),
                ProcessHandle.current().pid()), new Launcher.Settings(bound, bound), System.out, System.err, Path.of("").toAbsolutePath());
        int code;
        try (LauncherSignals signals = LauncherSignals.install(launcher)) {
            code = launcher.run();
        }
        System.exit(code);
    }
}
