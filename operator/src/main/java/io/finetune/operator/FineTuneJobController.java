package io.finetune.operator;

import io.fabric8.kubernetes.api.model.Pod;
import io.finetune.operator.naming.Names;
import io.finetune.operator.settings.OperatorSettings;
import io.finetune.operator.metrics.OperatorMetrics;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.finetune.api.Violation;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.api.v1alpha1.FineTuneJobStatus;
import io.finetune.operator.desired.DesiredResources;
import io.finetune.operator.observe.CachedReads;
import io.finetune.operator.observe.ClusterReads;
import io.finetune.operator.observe.LiveReads;
import io.finetune.operator.observe.Observation;
import io.finetune.operator.observe.Observer;
import io.finetune.operator.status.EventRecorder;
import io.finetune.operator.status.StatusDeriver;
import io.finetune.operator.status.StatusDeriver.Derived;
import io.finetune.operator.status.StatusRecorder;
import io.finetune.operator.status.StatusWriter;
import io.finetune.operator.validate.SpecChecks;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.ErrorStatusUpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.Mappers;
import io.quarkiverse.operatorsdk.annotations.RBACRule;
import jakarta.inject.Inject;
import java.time.Clock;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The FineTuneJob controller (JOSDK entry point). One pass: observe (Job, ownership, spec change, preflight) -> validate
 * (only while there is no Job) -> act (create if absent, RBAC, suspend, attempt ledger) -> status (derived, patched only when
 * it changed, one event per transition). Safe to repeat at any point: a pass that dies after creating the Job finds it on
 * the next. Status is written by {@link StatusRecorder} (a patch that leaves the trainer's progress alone), so JOSDK is
 * told not to update anything. Under JOSDK the Jobs and pods are read from the event sources' informers ({@link CachedReads},
 * attached in {@link #prepareEventSources}); a pass then sends only writes (and the rare reads CachedReads explains).
 *
 * <p>The operator's RBAC is declared here and nowhere else: the chart grants exactly these rules
 * (charts' ChartMatchesOperatorRbacTest compares both ways with target/kubernetes/kubernetes.yml, generated from them).
 * QOSDK also emits its fixed default rule for the primary resource (all verbs on finetunejobs, /status, /finalizers),
 * which it offers no way to narrow; the rules below are what the code uses, and each says why. No rule reads Secrets: credentials
 * reach the trainer only as secretKeyRef env, resolved by the kubelet.
 */
@ControllerConfiguration(name = FineTuneJobController.NAME)
// FineTuneJobs: the informer lists and watches them; nothing creates, updates or deletes one (users own their jobs).
@RBACRule(apiGroups = FineTuneJob.GROUP, resources = "finetunejobs", verbs = {"get", "list", "watch"})
// Status: StatusWriter patches it. get because the per-job Role grants get/patch on it, and Kubernetes lets a client grant
// only what it holds itself (no escalate verb needed).
@RBACRule(apiGroups = FineTuneJob.GROUP, resources = "finetunejobs/status", verbs = {"get", "patch"})
// Owned objects carry ownerReferences with blockOwnerDeletion, which the OwnerReferencesPermissionEnforcement admission
// plugin allows only to a client that may update the owner's finalizers.
@RBACRule(apiGroups = FineTuneJob.GROUP, resources = "finetunejobs/finalizers", verbs = {"update"})
// Jobs: create the training Job, watch it for status, patch spec.suspend (suspend/resume, image-pull failures).
@RBACRule(apiGroups = "batch", resources = "jobs", verbs = {"get", "list", "watch", "create", "patch"})
// Pods: read for scheduling failures, container states and the trainer's termination message; patch to write a gang's
// rank annotations (spec.resources.nodes).
@RBACRule(apiGroups = "", resources = "pods", verbs = {"get", "list", "watch", "patch"})
// Evictions (never pod deletes): end the live pods of a gang attempt one of whose pods failed (GangPlan), gracefully and
// within PodDisruptionBudgets.
@RBACRule(apiGroups = "", resources = "pods/eviction", verbs = {"create"})
// Nodes: list only, for the preflight's GPU size (nvidia.com/gpu.memory label of the nodes matching the job's nodeSelector).
@RBACRule(apiGroups = "", resources = "nodes", verbs = {"list"})
// ConfigMap <job>-config: the resolved run configuration the trainer mounts.
@RBACRule(apiGroups = "", resources = "configmaps", verbs = {"get", "create", "update"})
// Per-job ServiceAccount the trainer pod runs as: created, a 409 meaning it exists (never read back, DesiredResources).
@RBACRule(apiGroups = "", resources = "serviceaccounts", verbs = {"create"})
// Per-job Role (get/patch on its own finetunejobs/status) + RoleBinding. Granting it needs no escalate/bind verbs: the
// operator itself holds get/patch on finetunejobs/status.
@RBACRule(apiGroups = "rbac.authorization.k8s.io", resources = {"roles", "rolebindings"}, verbs = {"create"})
// Events for each transition (kubectl describe ftj): each is created, never patched or aggregated.
@RBACRule(apiGroups = "", resources = "events", verbs = {"create"})
// Leader election (HA): the Lease that picks the active replica (fabric8's LeaderElector renews it with PATCH).
@RBACRule(apiGroups = "coordination.k8s.io", resources = "leases", verbs = {"get", "create", "update", "patch"})
public class FineTuneJobController implements Reconciler<FineTuneJob> {
    public static final String NAME = "finetunejob";

    private final Observer observer;
    private final SpecChecks validator;
    private final DesiredResources desired;
    private final StatusRecorder status;
    private final OperatorMetrics metrics;
    private final Clock clock;
    /** The caches the event sources fill, null where passes read live (tests that call {@link #reconcile(FineTuneJob)}). */
    private final CachedReads cache;

    @Inject
    public FineTuneJobController(Observer observer, SpecChecks validator, DesiredResources desired, StatusRecorder status,
                                 OperatorMetrics metrics, Clock clock, CachedReads cache) {
        this.cache = cache;
        this.observer = observer;
        this.validator = validator;
        this.desired = desired;
        this.status = status;
        this.metrics = metrics;
        this.clock = clock;
    }

    /** The controller with its collaborators built on one client (tests; the application wires them in OperatorBeans). */
    public FineTuneJobController(KubernetesClient client, OperatorSettings settings, StatusWriter statusWriter,
                                 EventRecorder events, OperatorMetrics metrics, Clock clock) {
        this(client, new LiveReads(client), settings, statusWriter, events, metrics, clock);
    }

    /** The same on given reads (a test passes cached reads over its own informers). */
    public FineTuneJobController(KubernetesClient client, ClusterReads reads, OperatorSettings settings, StatusWriter statusWriter,
                                 EventRecorder events, OperatorMetrics metrics, Clock clock) {
        this(new Observer(reads, client), new SpecChecks(settings), new DesiredResources(client, reads, settings, events, metrics, clock),
                new StatusRecorder(statusWriter, events), metrics, clock, null);
    }

    @Override
    public UpdateControl<FineTuneJob> reconcile(FineTuneJob resource, Context<FineTuneJob> context) {
        reconcile(resource);
        return UpdateControl.noUpdate();
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
        if (StatusDeriver.isHistory(resource)) {
            return resource.getStatus();
        }
        Observation seen = observer.observe(resource, StatusDeriver.awaitsPreflight(resource));
        List<Violation> violations = seen.jobMissing() ? validator.check(resource) : List.of();
        seen = desired.apply(seen, violations);
        seen = desired.recordAttempts(desired.syncGang(observer.withPods(seen)));
        Derived derived = StatusDeriver.derive(seen, violations, clock.instant());
        desired.stopFailedPull(seen, derived);
        status.record(resource, derived);
        return derived.status();
    }

    @Override
    public ErrorStatusUpdateControl<FineTuneJob> updateErrorStatus(FineTuneJob resource, Context<FineTuneJob> context, Exception e) {
        return ErrorStatusUpdateControl.defaultErrorProcessing(); // JOSDK retries with back-off; the error is counted and logged
    }

    /**
     * Jobs and pods trigger a reconcile of their FineTuneJob, and their informers are what a pass reads (training and
     * preflight alike: both Jobs carry the managed-by label, all their pods the job-name label).
     */
    @Override
    public List<EventSource<?, FineTuneJob>> prepareEventSources(EventSourceContext<FineTuneJob> context) {
        metrics.countFrom(() -> context.getPrimaryCache().list().collect(Collectors.toList()));
        var jobs = new InformerEventSource<>(InformerEventSourceConfiguration.from(Job.class, FineTuneJob.class)
                .withName("jobs")
                .withLabelSelector(Names.MANAGED_BY_LABEL + "=" + Names.MANAGED_BY)
                .withSecondaryToPrimaryMapper(Mappers.fromOwnerReferences(FineTuneJob.class))
                .build(), context);
        // Pods are owned by the Job, not the FineTuneJob: map them back by the label the pod template carries.
        var pods = new InformerEventSource<>(InformerEventSourceConfiguration.from(Pod.class, FineTuneJob.class)
                .withName("pods")
                .withLabelSelector(Names.JOB_NAME_LABEL)
                .withSecondaryToPrimaryMapper((Pod pod) -> Set.of(new ResourceID(
                        pod.getMetadata().getLabels().get(Names.JOB_NAME_LABEL), pod.getMetadata().getNamespace())))
                .build(), context);
        if (cache != null) {
            cache.attach(new EventSourceCache<>(jobs), new EventSourceCache<>(pods));
        }
        return List.of(jobs, pods);
    }
}
