package io.finetune.trainer.cli;

import io.finetune.api.TrainerContract;
import io.finetune.api.TrainerResult;
import io.finetune.trainer.distributed.GangAssignment;
import io.finetune.trainer.distributed.LaunchPlan;
import io.finetune.trainer.distributed.NodeTopology;
import io.finetune.trainer.failure.Failure;
import io.finetune.trainer.pod.PodRunner;
import io.finetune.trainer.spec.RunSpecReader;
import io.finetune.trainer.train.StopRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

/**
 * {@code pod}: what the operator's training pod runs. The job, storage credentials and reporting target come from the
 * environment the operator sets; the pod path owns its own failures (one termination message whatever happens). When the
 * environment asks for more than one rank ({@code PET_NPROC_PER_NODE} or {@code FINETUNE_NPROC} above 1, or several
 * {@code PET_NNODES}), this process launches this node's ranks, each {@code pod} with its {@code RANK} and
 * {@code LOCAL_RANK}; rank 0 reports status and writes the termination message. A pod of a gang first waits (at most the
 * collective timeout) for the rank the operator assigns it ({@link GangAssignment}).
 */
@Command(name = "pod", description = {"What the operator's training pod runs.",
    "Trains the job from $FINETUNE_CONFIG (set by the operator), reports progress on the FineTuneJob and on",
    "/metrics, and writes the result to the termination log. Launches one process per rank when PET_NPROC_PER_NODE or",
    "FINETUNE_NPROC is above 1 or PET_NNODES is (the PET_* names are Kubeflow Trainer's torchrun contract)."})
final class PodCommand implements Callable<Integer> {
    @ParentCommand
    TrainerCli cli;

    @Override
    public Integer call() throws Exception {
        Map<String, String> env = System.getenv();
        if (LaunchPlan.startedByLauncher(env)) {
            return PodRunner.command();   // a rank: RANK etc. come from our launcher or from torchrun
        }
        if (GangAssignment.needed(env)) {
            // a pod of a gang (spec.resources.nodes): the operator hands out the ranks once every pod of the attempt runs
            try {
                Optional<Map<String, String>> assigned = GangAssignment.await(env, collectiveTimeout(env),
                        () -> StopRequest.process().isRequested());
                if (assigned.isEmpty()) {
                    System.err.println("stopped: " + StopRequest.process().reason() + " before this pod's rank was assigned");
                    return TrainerResult.PREEMPTED_EXIT_CODE;
                }
                env = assigned.get();
            } catch (IllegalArgumentException e) {
                return PodRunner.run(env, (job, podEnv, progress) -> {
                    throw e;
                }, Failure::reasonOf);
            }
        }
        NodeTopology topology;
        try {
            topology = NodeTopology.fromEnvironment(env, TrainerContract.Env.NPROC);
        } catch (IllegalArgumentException e) {
            // still the pod path's one termination message (and the status patch) for a bad launch variable
            return PodRunner.run(env, (job, podEnv, progress) -> {
                throw e;
            }, Failure::reasonOf);
        }
        if (topology.worldSize() == 1) {
            return PodRunner.command();
        }
        return Launch.children(cli == null ? null : cli.program, topology, LaunchPlan.ThreadBudget.SHARED_BY_CHILDREN,
                List.of("pod"), env, collectiveTimeout(env));
    }

    /** The mounted job's spec.resources.collectiveTimeoutSeconds; the default when the manifest cannot be read here (the
     * ranks then report what is wrong with it, each through the pod path). */
    private static Duration collectiveTimeout(Map<String, String> env) {
        try {
            return RunSpecReader.readFile(Path.of(env.get(TrainerContract.Env.CONFIG))).collectiveTimeout();
        } catch (Exception e) {
            return Launch.COLLECTIVE_TIMEOUT;
        }
    }
}
