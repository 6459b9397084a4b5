package io.finetune.operator;

import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.finetune.api.PreflightResult;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.api.v1alpha1.FineTuneJobStatus;
import io.finetune.api.v1alpha1.PreflightMode;
import io.finetune.api.v1alpha1.PreflightStatus;
import io.finetune.api.v1alpha1.ResourcesSpec;
import io.finetune.operator.desired.PreflightJob;
import io.finetune.operator.status.ConditionType;
import io.finetune.operator.status.Conditions;
import io.finetune.operator.status.FailureReason;
import io.finetune.operator.status.StatusDeriver.Derived;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.finetune.api.v1alpha1.Phase;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The preflight before the GPU Job: creates the CPU-only preflight Job once, then reads its pod's termination message
 * ({@link PreflightResult}). Until it passed, the GPU Job is not created; a failed preflight is final.
 */
final class PreflightStep {
    /** The label NVIDIA GPU feature discovery sets on GPU nodes: memory of one GPU in MiB. */
    static final String GPU_MEMORY_LABEL = "nvidia.com/gpu.memory";

    /** Where the preflight stands: passed (report), failed (reason, message, report) or still running (message). */
    record Verdict(boolean passed, FailureReason failure, String message, PreflightStatus report) {
        boolean running() {
            return !passed && failure == null;
        }
    }

    private final KubernetesClient client;
    private final OperatorSettings settings;

    PreflightStep(KubernetesClient client, OperatorSettings settings) {
        this.client = client;
        this.settings = settings;
    }

    /** True while the GPU Job must wait for a preflight (spec.preflight Auto and no PreflightPassed=True yet). */
    static boolean required(FineTuneJob resource) {
        boolean skip = resource.getSpec() != null && resource.getSpec().preflight == PreflightMode.Skip;
        FineTuneJobStatus s = resource.getStatus();
        return !skip && !(s != null && Conditions.isTrue(s.conditions, ConditionType.PreflightPassed));
    }

    /** Creates the preflight Job if absent (returns null then: running), else reads its outcome. */
    Verdict observe(FineTuneJob resource, java.util.function.Function<Job, Job> createIfAbsent) {
        Optional<Verdict> seen = existing(resource);
        if (seen.isPresent()) {
            return seen.get();
        }
        GpuMemory gpu = gpuMemory(resource);
        createIfAbsent.apply(PreflightJob.desired(resource, settings, gpu.bytes().isPresent() ? gpu.bytes().getAsLong() : null,
                gpu.note()));
        return new Verdict(false, null, "preflight Job " + Names.preflight(resource) + " checks the dataset, targetModules, "
                + "the memory plan and storage before a GPU is requested", null);
    }

    /**
     * The verdict of an existing preflight Job; empty when there is none. Also read after the GPU Job exists while the status
     * lacks PreflightPassed=True: a pass that worked from a stale cache may have written the conditions without it.
     */
    Optional<Verdict> existing(FineTuneJob resource) {
        String ns = resource.getMetadata().getNamespace();
        Job job = client.batch().v1().jobs().inNamespace(ns).withName(Names.preflight(resource)).get();
        if (job == null) {
            return Optional.empty();
        }
        return Optional.of(read(resource, job));
    }

    private Verdict read(FineTuneJob resource, Job job) {
        String ns = resource.getMetadata().getNamespace();
        List<Pod> pods = client.pods().inNamespace(ns).withLabel(Names.COMPONENT_LABEL, Names.PREFLIGHT)
                .withLabel(Names.JOB_NAME_LABEL, resource.getMetadata().getName()).list().getItems();
        Optional<ContainerStateTerminated> term = pods.stream().map(PreflightStep::terminated).flatMap(Optional::stream).findFirst();
        if (term.isPresent()) {
            Optional<PreflightResult> r = PreflightResult.parse(term.get().getMessage());
            if (r.isPresent()) {
                PreflightResult v = r.get();
                return v.passed() ? new Verdict(true, null, v.message(), v.report())
                        : new Verdict(false, FailureReason.valueOf(v.reason().name()), v.message(), v.report());
            }
            String tail = term.get().getMessage() == null ? "" : term.get().getMessage().strip();
            return new Verdict(false, FailureReason.PreflightError, "the preflight pod exited with code " + term.get().getExitCode()
                    + " without a verdict" + (tail.isEmpty() ? "" : ": " + tail.substring(Math.max(0, tail.length() - 400))), null);
        }
        boolean jobFailed = job.getStatus() != null && job.getStatus().getConditions() != null && job.getStatus().getConditions()
                .stream().anyMatch(c -> "Failed".equals(c.getType()) && "True".equals(c.getStatus()));
        if (jobFailed) {
            return new Verdict(false, FailureReason.PreflightError, "preflight Job " + job.getMetadata().getName() + " failed"
                    + job.getStatus().getConditions().stream().filter(c -> "Failed".equals(c.getType()))
                    .map(c -> ": " + c.getReason() + " " + (c.getMessage() == null ? "" : c.getMessage())).findFirst().orElse(""), null);
        }
        return new Verdict(false, null, "preflight Job " + job.getMetadata().getName() + " is checking the dataset, "
                + "targetModules, the memory plan and storage", null);
    }

    /** GPU size for the plan, or why it is unknown. */
    record GpuMemory(OptionalLong bytes, String note) {
    }

    /** spec.resources.gpuMemory, else the smallest nvidia.com/gpu.memory (MiB) of the nodes matching nodeSelector. */
    GpuMemory gpuMemory(FineTuneJob resource) {
        ResourcesSpec res = resource.getSpec().resources != null ? resource.getSpec().resources : new ResourcesSpec();
        if (res.gpus != null && res.gpus == 0) {
            return new GpuMemory(OptionalLong.empty(), "spec.resources.gpus is 0 (CPU training): GPU memory not checked");
        }
        if (res.gpuMemory != null) {
            return new GpuMemory(OptionalLong.of(Quantity.getAmountInBytes(new Quantity(res.gpuMemory)).longValue()), null);
        }
        List<Node> nodes;
        try {
            Map<String, String> selector = res.nodeSelector == null ? Map.of() : res.nodeSelector;
            nodes = client.nodes().withLabels(selector).withLabel(GPU_MEMORY_LABEL).list().getItems();
        } catch (KubernetesClientException e) {
            return new GpuMemory(OptionalLong.empty(), "GPU memory unknown: cannot list nodes (" + e.getCode()
                    + "); set spec.resources.gpuMemory; memory not checked");
        }
        OptionalLong mib = nodes.stream().map(n -> n.getMetadata().getLabels().get(GPU_MEMORY_LABEL))
                .filter(v -> v != null && v.matches("[0-9]{1,9}")).mapToLong(Long::parseLong).min();
        if (mib.isEmpty()) {
            return new GpuMemory(OptionalLong.empty(), "GPU memory unknown: no spec.resources.gpuMemory and no node matching "
                    + "the job's nodeSelector has the " + GPU_MEMORY_LABEL + " label; memory not checked");
        }
        return new GpuMemory(OptionalLong.of(mib.getAsLong() << 20), null);
    }

    private static Optional<ContainerStateTerminated> terminated(Pod pod) {
        if (pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null) {
            return Optional.empty();
        }
        return pod.getStatus().getContainerStatuses().stream().filter(c -> Names.CONTAINER.equals(c.getName()))
                .map(ContainerStatus::getState).map(st -> st.getTerminated()).filter(t -> t != null).findFirst();
    }

    /** The derived status with the preflight's state: Pending while it runs, Failed with its reason, or its figures. */
    static Derived apply(Derived derived, Verdict v, Long generation, Instant now) {
        FineTuneJobStatus s = derived.status();
        List<Condition> want = new ArrayList<>();
        if (v.report() != null) {
            s.preflight = v.report();
        }
        if (v.passed()) {
            want.add(Conditions.of(ConditionType.PreflightPassed, true, "Passed", v.message()));
            s.conditions = Conditions.merge(s.conditions, want, now.toString(), generation);
            return derived;
        }
        if (v.running()) {
            want.add(Conditions.of(ConditionType.Running, false, "Pending", v.message()));
            s.conditions = Conditions.merge(s.conditions, want, now.toString(), generation);
            s.phase = Phase.Pending;
            s.message = v.message();
            return new Derived(s, "Preflight", v.message());
        }
        want.add(Conditions.of(ConditionType.PreflightPassed, false, v.failure().name(), v.message()));
        want.add(Conditions.of(ConditionType.Running, false, "Failed", "the preflight failed: no GPU Job was created"));
        want.add(Conditions.of(ConditionType.Failed, true, v.failure().name(), v.message()));
        s.conditions = Conditions.merge(s.conditions, want, now.toString(), generation);
        s.phase = Phase.Failed;
        s.message = v.message();
        if (s.completionTime == null) {
            s.completionTime = now.toString();
        }
        return new Derived(s, v.failure().name(), v.message());
    }
}
