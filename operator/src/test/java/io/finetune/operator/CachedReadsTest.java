package io.finetune.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.api.v1alpha1.FineTuneJobStatus;
import io.finetune.api.v1alpha1.Phase;
import io.finetune.operator.naming.Names;
import io.finetune.operator.observe.CachedReads;
import io.finetune.operator.observe.LiveReads;
import io.finetune.operator.settings.OperatorSettings;
import io.finetune.operator.status.EventRecorder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A whole run on cached reads (informers on the mock API server standing for JOSDK's event sources): no pass sends a GET
 * or LIST for the kinds the informers hold (Jobs, pods) or for the per-job objects known to exist (ConfigMap, RBAC), an
 * idle pass sends nothing at all, and the status still goes Pending -> Running -> Succeeded with the artifact.
 */
class CachedReadsTest extends ControllerTestBase {
    /** A GET of a Job, pod, ConfigMap, ServiceAccount, Role or RoleBinding, single or list; watches are the informers'. */
    private static final Pattern CACHED_OR_KNOWN = Pattern.compile(
            "GET /(apis/batch/v1|api/v1|apis/rbac\\.authorization\\.k8s\\.io/v1)/namespaces/[^/]+/"
                    + "(jobs|pods|configmaps|serviceaccounts|roles|rolebindings)([/?].*)?");

    private InformedCache<Job> jobs;
    private InformedCache<Pod> pods;

    @BeforeEach
    void cachedController() {
        jobs = new InformedCache<>(client.batch().v1().jobs().inNamespace(TestJobs.NAMESPACE)
                .withLabel(Names.MANAGED_BY_LABEL, Names.MANAGED_BY).runnableInformer(0));
        pods = new InformedCache<>(client.pods().inNamespace(TestJobs.NAMESPACE).withLabel(Names.JOB_NAME_LABEL).runnableInformer(0));
        jobs.informer().run();
        pods.informer().run();
        CachedReads reads = new CachedReads(new LiveReads(client));
        reads.attach(jobs, pods);
        controller = new FineTuneJobController(client, reads, OperatorSettings.defaults(), statusWriter,
                new EventRecorder(client, clock), metrics, clock);
    }

    @AfterEach
    void stopInformers() {
        jobs.informer().stop();
        pods.informer().stop();
    }

    @Test
    void aRunOnCachedReadsSendsOnlyWrites() {
        FineTuneJob ftj = create(TestJobs.lora("cached"));
        FineTuneJobStatus pending = pass(ftj);
        assertThat(pending.phase).isEqualTo(Phase.Pending);
        assertThat(jobs()).hasSize(1);

        List<String> idle = passRequests(ftj);
        assertThat(idle).as("an idle pass with the Job in the cache").isEmpty();

        Pod pod = kubelet.running(kubelet.startPod(ftj), "2026-01-01T00:00:05Z");
        clock.advance(Duration.ofSeconds(10));
        assertThat(pass(ftj).phase).isEqualTo(Phase.Running);

        String result = "{\"outcome\":\"Succeeded\",\"artifact\":{\"uri\":\"s3://adapters/run-1\",\"digest\":\""
                + ReconcileLifecycleTest.DIGEST + "\",\"sizeBytes\":1,\"format\":\"peft-lora\",\"servableBy\":[\"peft\"]},\"steps\":4}";
        kubelet.terminated(pod, "Succeeded", 0, "Completed", result, "2026-01-01T00:59:00Z");
        assertThat(pass(ftj).phase).isEqualTo(Phase.Running);
        kubelet.complete(ftj);
        FineTuneJobStatus done = pass(ftj);
        assertThat(done.phase).as(done.message).isEqualTo(Phase.Succeeded);
        assertThat(done.artifact.digest).isEqualTo(ReconcileLifecycleTest.DIGEST);
        assertThat(jobs()).hasSize(1);
    }

    @Test
    void aJobTheCacheDoesNotHoldYetIsNotCreatedTwice() {
        FineTuneJob ftj = create(TestJobs.lora("unseen"));
        pass(ftj);
        // a fresh controller whose caches are empty, as if the Job informer lagged behind the create (409 = exists)
        CachedReads empty = new CachedReads(new LiveReads(client));
        InformedCache<Job> noJobs = new InformedCache<>(client.batch().v1().jobs().inNamespace("elsewhere").runnableInformer(0));
        empty.attach(noJobs, pods);
        controller = new FineTuneJobController(client, empty, OperatorSettings.defaults(), statusWriter,
                new EventRecorder(client, clock), metrics, clock);
        controller.reconcile(get(ftj));
        assertThat(jobs()).hasSize(1);
        assertThat(events(ftj).stream().filter(e -> e.equals("Normal JobCreated"))).hasSize(1);
    }

    /** One pass after the informers caught up with the server; asserts it read none of the cached or known kinds. */
    private FineTuneJobStatus pass(FineTuneJob ftj) {
        List<String> sent = passRequests(ftj);
        assertThat(sent).as("requests of the pass").noneMatch(r -> CACHED_OR_KNOWN.matcher(r).matches());
        return get(ftj).getStatus();
    }

    private List<String> passRequests(FineTuneJob ftj) {
        awaitSynced();
        FineTuneJob current = get(ftj);
        drain();
        controller.reconcile(current);
        return drain();
    }

    /** Waits until each informer holds the server's latest version of every Job and pod. */
    private void awaitSynced() {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!synced(jobs, client.batch().v1().jobs().inNamespace(TestJobs.NAMESPACE).list().getItems())
                || !synced(pods, client.pods().inNamespace(TestJobs.NAMESPACE).list().getItems())) {
            assertThat(System.nanoTime()).as("informers caught up within 10 s").isLessThan(deadline);
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static <T extends HasMetadata> boolean synced(InformedCache<T> cache, List<T> live) {
        SharedIndexInformer<T> informer = cache.informer();
        return live.stream().allMatch(o -> {
            T held = informer.getStore().getByKey(o.getMetadata().getNamespace() + "/" + o.getMetadata().getName());
            return held != null && held.getMetadata().getResourceVersion().equals(o.getMetadata().getResourceVersion());
        });
    }

    /** "METHOD path" of the requests received since the last call, the informers' watches left out. */
    private static List<String> drain() {
        List<String> out = new ArrayList<>();
        try {
            RecordedRequest r;
            while ((r = server.takeRequest(10, TimeUnit.MILLISECONDS)) != null) {
                if (!r.getPath().contains("watch=true")) {
                    out.add(r.getMethod() + " " + r.getPath());
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return out;
    }
}
