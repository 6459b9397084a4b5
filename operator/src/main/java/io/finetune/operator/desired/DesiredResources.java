package io.finetune.operator.desired;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.finetune.api.TrainerContract.Gang;
import io.finetune.api.Violation;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.api.v1alpha1.Phase;
import io.finetune.operator.naming.Names;
import io.finetune.operator.metrics.OperatorMetrics;
import io.finetune.operator.settings.OperatorSettings;
import io.finetune.operator.observe.ClusterReads;
import io.finetune.operator.observe.GangFacts;
import io.finetune.operator.observe.JobFacts;
import io.finetune.operator.observe.Observation;
import io.finetune.operator.observe.PreflightVerdict;
import io.finetune.operator.status.AttemptLedger;
import io.finetune.operator.status.EventRecorder;
import io.finetune.operator.status.EventRecorder.Type;
import io.finetune.operator.status.StatusReason;
import io.finetune.operator.status.StatusDeriver.Derived;
import java.net.HttpURLConnection;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The act step: brings the cluster to the desired objects of a FineTuneJob. Everything is created if absent and never
 * updated (ConfigMap aside), so a pass that dies halfway is finished by the next one; the only later writes to the Job are
 * its hold ({@link JobHold}) and the attempt ledger with its backoffLimit. Creating never reads first: the create is sent
 * and a 409 means "exists"; what this process created or found is remembered ({@link KnownObjects}) and not asked about
 * again, and every write is handed to {@link ClusterReads#wrote} so a cached read never returns the older copy.
 */
public class DesiredResources {
    private final KubernetesClient client;
    private final ClusterReads reads;
    private final KnownObjects known = new KnownObjects();
    private final OperatorSettings settings;
    private final EventRecorder events;
    private final OperatorMetrics metrics;
    private final Clock clock;

    public DesiredResources(KubernetesClient client, ClusterReads reads, OperatorSettings settings, EventRecorder events,
                            OperatorMetrics metrics, Clock clock) {
        this.client = client;
        this.reads = reads;
        this.settings = settings;
        this.events = events;
        this.metrics = metrics;
        this.clock = clock;
    }

    /**
     * No Job yet and a valid spec: the ConfigMap, RBAC and preflight Job, then (preflight passed or skipped) the training
     * Job. A Job that exists: RBAC, and its hold ({@link JobHold}). Returns what was seen with the Job as it now is and the
     * preflight verdict the status applies.
     */
    public Observation apply(Observation seen, List<Violation> violations) {
        FineTuneJob resource = seen.resource();
        if (seen.jobMissing() && violations.isEmpty()) {
            PreflightVerdict preflight = seen.preflightRequired() ? preflightFirst(seen) : null;
            Job job = preflight == null || preflight.passed() ? createAll(resource) : null;
            return seen.withJob(job).withPreflight(preflight);
        }
        if (seen.job() == null) {
            return seen.withPreflight(null);
        }
        ensureRbac(resource);
        PreflightVerdict passed = seen.preflight() != null && seen.preflight().passed() ? seen.preflight() : null;
        return seen.withJob(syncHold(resource, seen.job())).withPreflight(passed);
    }

    /**
     * Records the pods that ran in the Job's attempt ledger (GPU time survives their deletion) and, on clusters whose API
     * server dropped the Job's podFailurePolicy (before 1.26; the project's 1.20 tier), keeps preemptions out of the failure
     * budget: the Job's backoffLimit (mutable, unlike its template) becomes spec.backoffLimit + preemptions seen. Billed
     * GPU-seconds go to finetune_gpu_seconds_total once, when an attempt ends.
     */
    public Observation recordAttempts(Observation seen) {
        Job job = seen.job();
        if (job == null) {
            return seen;
        }
        FineTuneJob resource = seen.resource();
        Map<String, AttemptLedger.Attempt> before = AttemptLedger.read(job);
        Map<String, AttemptLedger.Attempt> after = AttemptLedger.update(before, seen.pods(), clock.instant());
        int preemptions = AttemptLedger.usage(after).preemptions;
        // A server that kept spec.podFailurePolicy (1.26+) already ignores exit code 75: raising the limit too would hand out
        // extra failures.
        boolean serverIgnoresPreemption = job.getSpec().getPodFailurePolicy() != null;
        Integer limit = resource.getSpec() == null || JobFacts.finished(job) || serverIgnoresPreemption ? job.getSpec().getBackoffLimit()
                : TrainingJob.podBackoffLimit(resource.getSpec()) + preemptions;
        if (after.equals(before) && Objects.equals(limit, job.getSpec().getBackoffLimit())) {
            return seen;
        }
        Map<String, Object> patch = Map.of("metadata", Map.of("annotations", Map.of(AttemptLedger.ANNOTATION, AttemptLedger.write(after))),
                "spec", limit == null ? Map.of() : Map.of("backoffLimit", limit));
        Job patched = patchJob(job, Serialization.asJson(patch));
        reads.wrote(resource, job, patched);
        metrics.gpuSeconds(resource.getMetadata().getNamespace(), AttemptLedger.newlyBilled(before, after));
        // The patch answers with the Job as it is now, whose status may be newer than the pods listed before it (the Job
        // controller may have marked it Complete since): the status is derived from the Job status read before the pods,
        // so both views are of one moment or the pods are the newer.
        return seen.withJob(new JobBuilder(patched).withStatus(job.getStatus()).build());
    }

    /**
     * A gang (spec.resources.nodes above 1): assigns the ranks of a new attempt once all its pods run, or ends an attempt
     * one of whose pods failed or is being deleted by deleting its live peers ({@link GangPlan}). Nothing while the Job is
     * finished or held (a hold deletes every pod itself). Returns what was seen with the annotated pods as patched.
     */
    public Observation syncGang(Observation seen) {
        FineTuneJob resource = seen.resource();
        Job job = seen.job();
        if (job == null || !GangFacts.isGang(resource.getSpec()) || JobFacts.finished(job) || JobFacts.suspended(job)) {
            return seen;
        }
        GangPlan plan = GangPlan.of(GangFacts.nodes(resource.getSpec()), GangFacts.recordedAttempt(job), seen.pods());
        if (plan.isEmpty()) {
            return seen;
        }
        String ns = job.getMetadata().getNamespace();
        List<String> refused = new ArrayList<>();
        for (String name : plan.delete()) {
            if (!evict(ns, name)) {
                refused.add(name);
            }
        }
        if (!plan.delete().isEmpty()) {
            events.record(resource, Type.Warning, StatusReason.GangRestarted, plan.cause() + ": evicted " + String.join(", ", plan.delete())
                    + "; the whole gang restarts from the last checkpoint"
                    + (refused.isEmpty() ? "" : " (eviction of " + String.join(", ", refused) + " refused for now, e.g. by a"
                    + " PodDisruptionBudget; tried again at the next pass)"));
        }
        List<Pod> pods = new ArrayList<>(seen.pods());
        for (Map.Entry<String, Map<String, String>> e : plan.annotate().entrySet()) {
            Pod before = seen.pods().stream().filter(p -> p.getMetadata().getName().equals(e.getKey())).findFirst().orElseThrow();
            Pod patched = client.pods().inNamespace(ns).resource(before).patch(PatchContext.of(PatchType.JSON_MERGE),
                    Serialization.asJson(Map.of("metadata", Map.of("annotations", e.getValue()))));
            reads.wrote(resource, before, patched);
            pods.replaceAll(p -> p.getMetadata().getName().equals(e.getKey()) ? patched : p);
        }
        if (!plan.annotate().isEmpty()) {
            // recorded on the Job too: the pods of an ended attempt go away (evicted pods are deleted), and a later attempt
            // must still get a new number
            Job annotated = patchJob(job, Serialization.asJson(Map.of("metadata", Map.of("annotations",
                    Map.of(Gang.ATTEMPT, Integer.toString(plan.attempt()))))));
            reads.wrote(resource, job, annotated);
            Map<String, String> rank0 = plan.annotate().values().iterator().next();
            events.record(resource, Type.Normal, StatusReason.RanksAssigned, "gang attempt " + plan.attempt() + ": ranks 0-"
                    + (plan.annotate().size() - 1) + " to " + String.join(", ", plan.annotate().keySet()) + " (master "
                    + rank0.get(Gang.MASTER_ADDR) + ")");
        }
        return seen.withPods(pods);
    }

    /**
     * Ends a pod through the Eviction API, not a delete: the kubelet stops it gracefully (SIGTERM, the grace period), a
     * PodDisruptionBudget is honoured, and on 1.26+ the pod gets DisruptionTarget, which the Job's podFailurePolicy does
     * not count as a failure. policy/v1 (1.22+) first, else policy/v1beta1 (1.20, 1.21). False when it is refused (429).
     */
    private boolean evict(String ns, String name) {
        var pod = client.pods().inNamespace(ns).withName(name);
        try {
            return pod.evict(new io.fabric8.kubernetes.api.model.policy.v1.EvictionBuilder().withNewMetadata().withName(name)
                    .withNamespace(ns).endMetadata().build());
        } catch (KubernetesClientException e) {
            if (e.getCode() == HttpURLConnection.HTTP_CONFLICT || e.getCode() == HttpURLConnection.HTTP_NOT_FOUND && pod.get() == null) {
                return true;   // requested already, or gone
            }
            return pod.evict();   // a server without policy/v1 evictions (before 1.22) refuses the v1 body
        }
    }

    /** A pod whose image cannot be pulled would hold its GPU while the kubelet retries forever: suspending the Job deletes it. */
    public void stopFailedPull(Observation seen, Derived derived) {
        if (derived.phase() == Phase.Failed && derived.reason() == StatusReason.ImagePullBackOff && seen.job() != null) {
            reads.wrote(seen.resource(), seen.job(), patchSuspend(seen.job(), true));
        }
    }

    private Job createAll(FineTuneJob resource) {
        applyConfigMap(resource);
        ensureRbac(resource);
        Job desired = TrainingJob.desired(resource, settings);
        Job created = createIfAbsent(resource, desired);
        if (created != null) {
            metrics.jobCreated();
            boolean queued = JobHold.queued(resource.getSpec());
            events.record(resource, Type.Normal, StatusReason.JobCreated, "created Job " + desired.getMetadata().getName()
                    + (queued ? " (suspended: Kueue admits it from LocalQueue " + resource.getSpec().queueName + ")"
                    : Boolean.TRUE.equals(resource.getSpec().suspend) ? " (suspended)" : ""));
            // Created held with parallelism 0; a server that kept spec.suspend holds it by that alone, and Kueue must
            // account the workload's real size.
            return queued ? syncHold(resource, created) : created;
        }
        // 409: it exists though this pass did not see it (a cache not yet holding a Job created by the previous pass, or
        // another replica): read it once, live
        return client.batch().v1().jobs().inNamespace(desired.getMetadata().getNamespace()).withName(desired.getMetadata().getName()).get();
    }

    /** ConfigMap and RBAC (the preflight pod runs as the job's ServiceAccount), then the preflight Job or its verdict. */
    private PreflightVerdict preflightFirst(Observation seen) {
        FineTuneJob resource = seen.resource();
        applyConfigMap(resource);
        ensureRbac(resource);
        PreflightVerdict v = seen.preflight();
        if (v == null) {
            GpuMemory gpu = GpuMemory.of(resource, client);
            createIfAbsent(resource, PreflightJob.desired(resource, settings, gpu.bytes().isPresent() ? gpu.bytes().getAsLong() : null,
                    gpu.note()));
            v = PreflightVerdict.started(Names.preflight(resource));
        }
        if (v.passed()) {
            events.record(resource, Type.Normal, StatusReason.PreflightPassed, v.message());
        }
        return v;
    }

    /** Written once per content: while a job waits for its preflight, later passes send nothing. */
    private void applyConfigMap(FineTuneJob resource) {
        ConfigMap cm = TrainerConfigMap.desired(resource);
        String key = "configmap/" + key(resource) + "/" + Objects.hashCode(cm.getData());
        if (known.contains(key)) {
            return;
        }
        client.configMaps().inNamespace(cm.getMetadata().getNamespace()).resource(cm).createOr(op -> op.update());
        known.add(key);
    }

    private void ensureRbac(FineTuneJob resource) {
        String key = "rbac/" + key(resource);
        if (known.contains(key)) {
            return;
        }
        createIfAbsent(resource, TrainerRbac.serviceAccount(resource));
        createIfAbsent(resource, TrainerRbac.role(resource));
        createIfAbsent(resource, TrainerRbac.roleBinding(resource));
        known.add(key);
    }

    /** namespace/name/uid: a FineTuneJob recreated under the same name is a new one. */
    private static String key(FineTuneJob resource) {
        return resource.getMetadata().getNamespace() + "/" + resource.getMetadata().getName() + "/" + resource.getMetadata().getUid();
    }

    /**
     * Creates {@code desired}; returns the created object, or null when one of that name exists (409: created by an
     * earlier pass, another pass or a previous leader, adopted as it is). No GET first: the create is the question.
     */
    private <T extends HasMetadata> T createIfAbsent(FineTuneJob owner, T desired) {
        try {
            T created = client.resource(desired).inNamespace(desired.getMetadata().getNamespace()).create();
            reads.wrote(owner, null, created);
            return created;
        } catch (KubernetesClientException e) {
            if (e.getCode() == HttpURLConnection.HTTP_CONFLICT) {
                return null;
            }
            throw e;
        }
    }

    /** The Job's hold is the one thing that changes after it exists: bring it where the spec and Kueue want it ({@link JobHold}). */
    private Job syncHold(FineTuneJob resource, Job job) {
        var patch = JobHold.wanted(resource.getSpec(), job);
        if (patch.isEmpty()) {
            return job;
        }
        Job patched = patchJob(job, patch.get().json());
        reads.wrote(resource, job, patched);
        if (patch.get().released()) {
            events.record(resource, Type.Normal, StatusReason.Resumed, "spec.suspend is false: Job " + job.getMetadata().getName() + " resumed");
        }
        return patched;
    }

    private Job patchSuspend(Job job, boolean suspend) {
        return patchJob(job, "{\"spec\":{\"suspend\":" + suspend + ",\"parallelism\":" + (suspend ? 0 : 1) + "}}");   // only ever called to suspend
    }

    /**
     * A JSON merge patch of {@code job} as seen. Addressed through the object, not {@code withName}: fabric8 then sends
     * the PATCH alone, where {@code withName(..).patch(..)} first GETs the object (a hidden read per write).
     */
    private Job patchJob(Job job, String json) {
        return client.batch().v1().jobs().inNamespace(job.getMetadata().getNamespace()).resource(job)
                .patch(PatchContext.of(PatchType.JSON_MERGE), json);
    }
}
