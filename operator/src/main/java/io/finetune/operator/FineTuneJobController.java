package io.finetune.operator;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.finetune.api.TrainerContract.Paths;
import io.finetune.api.Violation;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.api.v1alpha1.FineTuneJobStatus;
import io.finetune.api.v1alpha1.Phase;
import io.finetune.operator.EventRecorder.Type;
import io.finetune.operator.desired.Owners;
import io.finetune.operator.desired.SpecHash;
import io.finetune.operator.desired.TrainerConfigMap;
import io.finetune.operator.desired.TrainerRbac;
import io.finetune.operator.desired.TrainingJob;
import io.finetune.operator.status.AttemptLedger;
import io.finetune.operator.status.ConditionType;
import io.finetune.operator.status.Conditions;
import io.finetune.operator.status.FailureReason;
import io.finetune.operator.status.StatusDeriver;
import io.finetune.operator.status.StatusDeriver.Derived;
import io.finetune.operator.status.StatusDeriver.Observation;
import java.net.HttpURLConnection;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jboss.logging.Logger;

/**
 * One reconcile pass for a FineTuneJob: observe (Job, pods) -> validate -> desired resources (ConfigMap, RBAC, Job;
 * created if absent, the Job never updated except spec.suspend) -> status (patched only when it changed) -> events.
 * Safe to repeat at any point: a pass that dies after creating the Job finds it on the next pass.
 */
public class FineTuneJobController {
    private static final Logger LOG = Logger.getLogger(FineTuneJobController.class);

    private final KubernetesClient client;
    private final OperatorSettings settings;
    private final StatusWriter statusWriter;
    private final EventRecorder events;
    private final OperatorMetrics metrics;
    private final Clock clock;

    public FineTuneJobController(KubernetesClient client, OperatorSettings settings, StatusWriter statusWriter,
                                 EventRecorder events, OperatorMetrics metrics, Clock clock) {
        this.client = client;
        this.settings = settings;
        this.statusWriter = statusWriter;
        this.events = events;
        this.metrics = metrics;
        this.clock = clock;
    }

    /** Runs one pass; returns the status now recorded (or that would be, when unchanged). */
    public FineTuneJobStatus reconcile(FineTuneJob resource) {
        metrics.reconciled();
        try {
            return pass(resource);
        } catch (RuntimeException e) {
            metrics.failed();
            throw e;
        }
    }

    private FineTuneJobStatus pass(FineTuneJob resource) {
        FineTuneJobStatus prev = resource.getStatus();
        if (prev != null && prev.phase != null && prev.phase.isFinal() && !invalidSpecMayBeFixed(resource, prev)) {
            return prev; // Finished runs are history: never recreate a Job whose pods were cleaned up (ttlSecondsAfterFinished).
        }
        String ns = resource.getMetadata().getNamespace();
        Job job = client.batch().v1().jobs().inNamespace(ns).withName(Names.trainer(resource)).get();
        String blocked = null;
        if (job != null && !Owners.isOwnedBy(job.getMetadata(), resource)) {
            blocked = "Job " + job.getMetadata().getName() + " exists but belongs to another owner (a deleted FineTuneJob of the same"
                    + " name?); waiting for it to go away";
            job = null;
        }
        List<Violation> violations = job == null && blocked == null ? SpecChecks.check(resource, settings) : List.of();
        String specChange = null;
        PreflightStep.Verdict preflight = null;
        if (job == null && blocked == null && violations.isEmpty()) {
            if (PreflightStep.required(resource)) {
                preflight = preflightFirst(resource);
            }
            if (preflight == null || preflight.passed()) {
                job = createResources(resource);
            }
        } else if (job != null) {
            if (PreflightStep.required(resource)) {
                preflight = new PreflightStep(client, settings).existing(resource).filter(PreflightStep.Verdict::passed).orElse(null);
            }
            specChange = specChange(resource, job);
            ensureRbac(resource);
            job = syncSuspend(resource, job);
        }
        List<Pod> pods = job == null ? List.of() : client.pods().inNamespace(ns)
                .withLabel(Names.JOB_NAME_LABEL, resource.getMetadata().getName()).list().getItems().stream()
                .filter(p -> !Names.PREFLIGHT.equals(p.getMetadata().getLabels().get(Names.COMPONENT_LABEL))).toList();
        if (job != null) {
            job = recordAttempts(resource, job, pods);
        }
        Derived derived = StatusDeriver.derive(new Observation(resource, job, pods, violations, specChange, blocked, clock.instant()));
        if (preflight != null) {
            derived = PreflightStep.apply(derived, preflight, resource.getMetadata().getGeneration(), clock.instant());
        }
        if (derived.phase() == Phase.Failed && FailureReason.ImagePullBackOff.name().equals(derived.reason()) && job != null) {
            // The pod would hold its GPU while the kubelet retries the pull forever: suspending the Job deletes it.
            patchSuspend(job, true);
        }
        if (StatusWriter.differs(prev, derived.status())) {
            statusWriter.write(resource, derived.status());
            announce(resource, prev, derived);
        }
        return derived.status();
    }

    /**
     * Records the pods that ran in the Job's attempt ledger (GPU time survives their deletion) and, on clusters whose API
     * server dropped the Job's podFailurePolicy (before 1.26; the project's 1.20 tier), keeps preemptions out of the failure
     * budget: the Job's backoffLimit (mutable, unlike its template) becomes spec.backoffLimit + preemptions seen. Billed GPU-seconds go to finetune_gpu_seconds_total once, when an attempt ends.
     */
    private Job recordAttempts(FineTuneJob resource, Job job, List<Pod> pods) {
        Map<String, AttemptLedger.Attempt> before = AttemptLedger.read(job);
        Map<String, AttemptLedger.Attempt> after = AttemptLedger.update(before, pods, clock.instant());
        int preemptions = AttemptLedger.usage(after).preemptions;
        boolean finished = job.getStatus() != null && job.getStatus().getConditions() != null && job.getStatus().getConditions()
                .stream().anyMatch(c -> ("Complete".equals(c.getType()) || "Failed".equals(c.getType())) && "True".equals(c.getStatus()));
        // A server that kept spec.podFailurePolicy (1.26+) already ignores exit code 75: raising the limit too would hand out
        // extra failures.
        boolean serverIgnoresPreemption = job.getSpec().getPodFailurePolicy() != null;
        Integer limit = resource.getSpec() == null || finished || serverIgnoresPreemption ? job.getSpec().getBackoffLimit()
                : TrainingJob.backoffLimit(resource.getSpec()) + preemptions;
        if (after.equals(before) && Objects.equals(limit, job.getSpec().getBackoffLimit())) {
            return job;
        }
        Map<String, Object> patch = Map.of("metadata", Map.of("annotations", Map.of(AttemptLedger.ANNOTATION, AttemptLedger.write(after))),
                "spec", limit == null ? Map.of() : Map.of("backoffLimit", limit));
        Job patched = client.batch().v1().jobs().inNamespace(job.getMetadata().getNamespace()).withName(job.getMetadata().getName())
                .patch(PatchContext.of(PatchType.JSON_MERGE), Serialization.asJson(patch));
        metrics.gpuSeconds(resource.getMetadata().getNamespace(), AttemptLedger.newlyBilled(before, after));
        return patched;
    }

    /** An InvalidSpec failure created nothing; when the spec was edited (server without CEL) it is checked again. */
    private static boolean invalidSpecMayBeFixed(FineTuneJob resource, FineTuneJobStatus prev) {
        return prev.phase == Phase.Failed && !Objects.equals(prev.observedGeneration, resource.getMetadata().getGeneration())
                && Conditions.find(prev.conditions, ConditionType.Valid)
                .map(c -> "False".equals(c.getStatus())).orElse(false);
    }

    private Job createResources(FineTuneJob resource) {
        ConfigMap cm = TrainerConfigMap.desired(resource);
        client.configMaps().inNamespace(cm.getMetadata().getNamespace()).resource(cm).createOr(op -> op.update());
        ensureRbac(resource);
        Job desired = TrainingJob.desired(resource, settings);
        Job created = createIfAbsent(desired);
        if (created != null) {
            metrics.jobCreated();
            events.record(resource, Type.Normal, "JobCreated", "created Job " + desired.getMetadata().getName()
                    + (Boolean.TRUE.equals(resource.getSpec().suspend) ? " (suspended)" : ""));
            return created;
        }
        return client.batch().v1().jobs().inNamespace(desired.getMetadata().getNamespace()).withName(desired.getMetadata().getName()).get();
    }

    /** ConfigMap and RBAC (the preflight pod runs as the job's ServiceAccount), then the preflight Job or its verdict. */
    private PreflightStep.Verdict preflightFirst(FineTuneJob resource) {
        ConfigMap cm = TrainerConfigMap.desired(resource);
        client.configMaps().inNamespace(cm.getMetadata().getNamespace()).resource(cm).createOr(op -> op.update());
        ensureRbac(resource);
        PreflightStep.Verdict v = new PreflightStep(client, settings).observe(resource, this::createIfAbsent);
        if (v.passed()) {
            events.record(resource, Type.Normal, ConditionType.PreflightPassed.name(), v.message());
        }
        return v;
    }

    private void ensureRbac(FineTuneJob resource) {
        createIfAbsent(TrainerRbac.serviceAccount(resource));
        createIfAbsent(TrainerRbac.role(resource));
        createIfAbsent(TrainerRbac.roleBinding(resource));
    }

    /** Creates {@code desired} unless an object of that name exists; returns the created object or null. */
    private <T extends HasMetadata> T createIfAbsent(T desired) {
        var op = client.resource(desired).inNamespace(desired.getMetadata().getNamespace());
        if (op.get() != null) {
            return null;
        }
        try {
            return op.create();
        } catch (KubernetesClientException e) {
            if (e.getCode() == HttpURLConnection.HTTP_CONFLICT) {
                return null; // created concurrently (another pass or a previous leader): adopt it
            }
            throw e;
        }
    }

    /** spec.suspend is the one field that may change after the Job exists: mirror it onto the Job. */
    private Job syncSuspend(FineTuneJob resource, Job job) {
        boolean want = resource.getSpec() != null && Boolean.TRUE.equals(resource.getSpec().suspend);
        boolean finished = job.getStatus() != null && job.getStatus().getConditions() != null && job.getStatus().getConditions()
                .stream().anyMatch(c -> ("Complete".equals(c.getType()) || "Failed".equals(c.getType())) && "True".equals(c.getStatus()));
        if (finished || want == StatusDeriver.isSuspended(job)) {
            return job;
        }
        Job patched = patchSuspend(job, want);
        if (!want) {
            events.record(resource, Type.Normal, "Resumed", "spec.suspend is false: Job " + job.getMetadata().getName() + " resumed");
        }
        return patched;
    }

    private Job patchSuspend(Job job, boolean suspend) {
        return client.batch().v1().jobs().inNamespace(job.getMetadata().getNamespace()).withName(job.getMetadata().getName())
                .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"suspend\":" + suspend + ",\"parallelism\":"
                        + (suspend ? 0 : 1) + "}}");
    }

    /** Non-null when the spec (suspend aside) differs from the one the Job was built from. */
    private String specChange(FineTuneJob resource, Job job) {
        String built = job.getMetadata().getAnnotations() == null ? null : job.getMetadata().getAnnotations().get(Names.SPEC_HASH_ANNOTATION);
        if (built == null) {
            return null;
        }
        if (resource.getSpec() == null) {
            return "the spec was removed after Job " + job.getMetadata().getName() + " was created; the change is ignored";
        }
        if (built.equals(SpecHash.of(resource.getSpec()))) {
            return null;
        }
        return "the spec changed after Job " + job.getMetadata().getName() + " was created" + changedFields(resource)
                + "; the change is ignored (only spec.suspend may change): delete and recreate the FineTuneJob to apply it";
    }

    /** " (spec.x, spec.y)" by comparing with the spec recorded in the ConfigMap, or "" when it cannot be read. */
    private String changedFields(FineTuneJob resource) {
        try {
            ConfigMap cm = client.configMaps().inNamespace(resource.getMetadata().getNamespace()).withName(Names.configMap(resource)).get();
            if (cm == null || cm.getData() == null || cm.getData().get(Paths.CONFIG_KEY) == null) {
                return "";
            }
            FineTuneJob original = Serialization.unmarshal(cm.getData().get(Paths.CONFIG_KEY), FineTuneJob.class);
            List<String> changed = SpecDiff.changedFields(original.getSpec(), resource.getSpec());
            return changed.isEmpty() ? "" : " (" + String.join(", ", changed) + ")";
        } catch (RuntimeException e) {
            LOG.debugf("cannot diff spec of %s: %s", resource.getMetadata().getName(), e.getMessage());
            return "";
        }
    }

    /** One event per transition: a new phase, a new reason within it, or a newly ignored spec change. */
    private void announce(FineTuneJob resource, FineTuneJobStatus prev, Derived now) {
        String before = prev == null || prev.phase == null ? null : prev.phase + "/" + reasonOf(prev);
        String after = now.phase() + "/" + now.reason();
        if (!after.equals(before)) {
            boolean warning = now.phase() == Phase.Failed || "Unschedulable".equals(now.reason()) || "Blocked".equals(now.reason());
            events.record(resource, warning ? Type.Warning : Type.Normal, now.reason(), now.message());
        }
        var servingNow = Conditions.find(now.status().conditions, ConditionType.ServingCompatible).filter(c -> "False".equals(c.getStatus()));
        if (servingNow.isPresent() && (prev == null || !Conditions.find(prev.conditions, ConditionType.ServingCompatible)
                .map(c -> "False".equals(c.getStatus())).orElse(false))) {
            events.record(resource, Type.Warning, servingNow.get().getReason(), servingNow.get().getMessage());
        }
        boolean ignoredBefore = prev != null && Conditions.isTrue(prev.conditions,
                ConditionType.SpecChangeIgnored);
        boolean ignoredNow = Conditions.isTrue(now.status().conditions,
                ConditionType.SpecChangeIgnored);
        if (ignoredNow && !ignoredBefore) {
            events.record(resource, Type.Warning, "SpecChangeIgnored", Conditions.find(now.status().conditions,
                    ConditionType.SpecChangeIgnored).get().getMessage());
        }
    }

    /** The reason a previous status was in, read back from its conditions (mirrors StatusDeriver's reasons). */
    static String reasonOf(FineTuneJobStatus s) {
        var conditions = s.conditions;
        return switch (s.phase) {
            case Failed -> Conditions.find(conditions, ConditionType.Failed)
                    .map(c -> c.getReason()).orElse("Failed");
            case Pending -> Conditions.find(conditions, ConditionType.Scheduled)
                    .filter(c -> "False".equals(c.getStatus())).map(c -> c.getReason()).orElse("Pending");
            // Running, Retrying or Finishing: a retry pod that starts after Retrying/Finishing is a transition of its own.
            case Running -> Conditions.find(conditions, ConditionType.Running)
                    .filter(c -> "True".equals(c.getStatus())).map(c -> c.getReason()).orElse("Running");
            default -> s.phase.name();
        };
    }
}
