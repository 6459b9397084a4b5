package io.finetune.trainer.distributed;

import java.util.List;
import sun.misc.Signal;

/**
 * A stand-in for the trainer as a {@link Launcher}'s child (no model, no Gloo): each scenario behaves as one kind of rank
 * would, so the launcher's tests see real processes, real exit codes and real signals within a second or two.
 *
 * <ul>
 *   <li>{@code env}: prints the launch variables (one {@code NAME=value} line each) and a line on stderr, exits 0</li>
 *   <li>{@code fail RANK CODE}: that rank prints an {@code error:} line and exits CODE; the others wait forever, as ranks
 *       whose collective will never complete (and do not stop on SIGTERM, so only a kill ends them)</li>
 *   <li>{@code stop}: prints {@code ready}; on SIGTERM prints {@code got SIGTERM} and exits 75, as a rank that checkpoints</li>
 *   <li>{@code deaf}: prints {@code ready}; on SIGTERM prints {@code got SIGTERM} and keeps running</li>
 *   <li>{@code lines N}: prints N long lines on stdout and N on stderr as fast as it can, exits 0</li>
 *   <li>{@code gloo MILLIS [DEAD]}: joins the Gloo group from the launch variables (collective timeout MILLIS) and prints
 *       the sum over ranks of {@code rank + 1}; rank DEAD exits 9 instead of joining the all-reduce, so the others' collective
 *       breaks and each prints an {@code error:} line and exits 2, as trainer ranks do</li>
 * </ul>
 */
public final class LaunchedChild {
    static final List<String> VARIABLES = List.of(LaunchEnvironment.RANK, LaunchEnvironment.WORLD_SIZE, LaunchPlan.LOCAL_RANK,
            LaunchPlan.LOCAL_WORLD_SIZE, LaunchPlan.GROUP_RANK, LaunchEnvironment.MASTER_ADDR, LaunchEnvironment.MASTER_PORT,
            LaunchPlan.OMP_NUM_THREADS, LaunchPlan.LAUNCHER_PID, "KEPT_FROM_LAUNCHER");

    private LaunchedChild() {
    }

    public static void main(String[] args) throws Exception {
        int rank = Integer.parseInt(System.getenv(LaunchEnvironment.RANK));
        switch (args[0]) {
            case "env" -> {
                for (String name : VARIABLES) {
                    System.out.println(name + "=" + System.getenv(name));
                }
                System.err.println("a line on stderr");
            }
            case "fail" -> {
                if (rank == Integer.parseInt(args[1])) {
                    Thread.sleep(300);
                    System.err.println("error: rank " + rank + " broke on purpose");
                    System.exit(Integer.parseInt(args[2]));
                }
                Signal.handle(new Signal("TERM"), s -> System.out.println("got SIGTERM"));
                Thread.sleep(Long.MAX_VALUE);
            }
            case "stop", "deaf" -> {
                boolean exits = args[0].equals("stop");
                Signal.handle(new Signal("TERM"), s -> {
                    System.out.println("got SIGTERM");
                    System.out.flush();
                    if (exits) {
                        Runtime.getRuntime().halt(LaunchResult.STOPPED);
                    }
                });
                System.out.println("ready");
                Thread.sleep(Long.MAX_VALUE);
            }
            case "orphan" -> {   // the production watch; its stop writes rank<N>.stopped and exits 75
                java.nio.file.Path file = java.nio.file.Path.of(args[1]).resolve("rank" + rank + ".stopped");
                LauncherWatch.start(System.getenv(), why -> {
                    try {
                        java.nio.file.Files.writeString(file, why);
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                    Runtime.getRuntime().halt(LaunchResult.STOPPED);
                });
                System.out.println("ready");
                Thread.sleep(Long.MAX_VALUE);
            }
            case "lines" -> {
                String text = ("rank" + rank + "-").repeat(200);
                Thread err = new Thread(() -> {
                    for (int i = 0; i < Integer.parseInt(args[1]); i++) {
                        System.err.println(text + i);
                    }
                });
                err.start();
                for (int i = 0; i < Integer.parseInt(args[1]); i++) {
                    System.out.println(text + i);
                }
                err.join();
            }
            case "gloo" -> gloo(rank, java.time.Duration.ofMillis(Long.parseLong(args[1])),
                    args.length > 2 ? Integer.parseInt(args[2]) : -1);
            default -> throw new IllegalArgumentException("unknown scenario " + args[0]);
        }
    }

    private static void gloo(int rank, java.time.Duration timeout, int dead) {
        try (ProcessGroup group = ProcessGroups.fromEnvironment(System.getenv(), timeout)) {
            group.barrier();
            if (rank == dead) {
                System.err.println("error: rank " + rank + " dies before the all-reduce");
                System.exit(9);
            }
            float[] value = {rank + 1};
            group.allReduceSum(value);
            System.out.println("sum=" + value[0] + " at rank " + group.rank() + " of " + group.worldSize());
        } catch (CollectiveException e) {
            System.err.println("error: " + e.getMessage());
            System.err.flush();
            System.exit(2);
        }
    }
}
