package io.finetune.e2e;

import static io.finetune.e2e.OperatorReplicas.await;
import static io.finetune.e2e.OperatorReplicas.counter;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.api.v1alpha1.Phase;
import io.finetune.testkit.ControlPlane;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged operator's start-up, shutdown and leader election on a real API server (no controllers or nodes: the
 * operator's own objects are what is checked), as a cluster admin would see them: started with a kubeconfig outside a
 * cluster; the API server restarted under it; SIGKILLed while creating many jobs; two replicas failing over on SIGKILL
 * (lease expiry) and on SIGTERM (lease released at once). Lease durations are test-sized; the measured times are printed.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OperatorLeaderElectionTest {
    static final String NS = "ha";
    static final Duration SIGTERM_LIMIT = Duration.ofSeconds(5);
    static final int MANY = 40;

    @TempDir
    static Path work;
    static ControlPlane kube;
    static OperatorReplicas replicas;
    static final List<OperatorProcess> started = new ArrayList<>();

    @BeforeAll
    static void startApiServer() throws Exception {
        kube = ControlPlane.builder().withCrds(Repo.crdFor120(work)).start();   // skips without binaries
        Repo.operatorJar();
        kube.client().namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(NS).endMetadata().build())
                .serverSideApply();
        replicas = new OperatorReplicas(kube, work, Duration.ofSeconds(10), Duration.ofSeconds(8), Duration.ofSeconds(1));
    }

    @AfterAll
    static void stopEverything() throws Exception {
        try {
            for (OperatorProcess op : started) {
                op.close();
            }
        } finally {
            if (kube != null) {
                kube.close();
            }
        }
    }

    /** Every replica a test started and stopped is gone; its log is printed when it failed. */
    @AfterEach
    void stopReplicas() throws Exception {
        for (OperatorProcess op : started) {
            op.close();
        }
    }

    static OperatorProcess track(OperatorProcess op) {
        started.add(op);
        return op;
    }

    static KubernetesClient admin() {
        return kube.client();
    }

    static FineTuneJob submit(String name) {
        String yaml = """
                apiVersion: finetune.io/v1alpha1
                kind: FineTuneJob
                metadata: {name: %s, namespace: %s}
                spec:
                  image: finetune/finetune-trainer:e2e
                  model: {source: "file:///models/base"}
                  dataset: {source: "file:///data/train.jsonl", format: prompt-completion}
                  method: {type: LoRA, lora: {rank: 4, alpha: 8, targetModules: [q_proj, v_proj]}}
                  training: {maxSteps: 12, batchSize: 4}
                  resources: {gpus: 1, memory: 2Gi}
                  preflight: Skip   # PreflightEndToEndTest covers the preflight; here only the GPU Job's objects count
                  output: {destination: "file:///out/%s"}
                """.formatted(name, NS, name);
        FineTuneJob job = admin().resources(FineTuneJob.class)
                .load(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8))).item();
        return admin().resources(FineTuneJob.class).inNamespace(NS).resource(job).create();
    }

    static Job awaitJob(String name, Duration limit) throws InterruptedException {
        return await(() -> admin().batch().v1().jobs().inNamespace(NS).withName(name + "-trainer").get(), limit,
                "the Job of FineTuneJob " + name);
    }

    @Test
    @Order(1)
    void startedWithAKubeconfigItTakesTheLeaseInTheContextsNamespaceAndReleasesItOnSigterm() throws Exception {
        // As operator/README.md runs it: KUBECONFIG only, no lease namespace, no KUBERNETES_NAMESPACE.
        Map<String, String> env = new HashMap<>();
        env.put("FINETUNE_OPERATOR_LEADER_ELECTION_LEASE_NAMESPACE", null);
        env.put("KUBERNETES_NAMESPACE", null);
        OperatorProcess op = track(replicas.start(env, "kubeconfig").get(0));
        assertThat(op.log()).contains("Leader election on: Lease " + OperatorProcess.NAMESPACE + "/"
                + OperatorReplicas.LEASE);
        Duration acquired = replicas.awaitHolder(op, System.nanoTime(), Duration.ofSeconds(30));
        submit("kc-1");
        awaitJob("kc-1", Duration.ofSeconds(30));

        Duration exit = op.terminate(Duration.ofSeconds(30));
        System.out.printf("SIGTERM to the only (leading) replica: exited after %d ms (lease taken %d ms after start)%n",
                exit == null ? -1 : exit.toMillis(), acquired.toMillis());
        assertThat(exit).as("exit after SIGTERM:\n" + op.log()).isNotNull().isLessThan(SIGTERM_LIMIT);
        assertThat(replicas.holder()).as("the Lease is released, not left to expire").isEmpty();
        assertThat(op.log()).contains("Released the Lease").doesNotContain("Exception in thread");
    }

    @Test
    @Order(2)
    void aKubeconfigContextWithoutNamespaceRunsWithoutLeaderElectionAndSaysSo() throws Exception {
        OperatorProcess.install(kube);
        Path kubeconfig = kube.writeKubeconfig(work.resolve("context-without-namespace.kubeconfig"), OperatorProcess.NAMESPACE,
                OperatorProcess.SERVICE_ACCOUNT);
        Files.write(kubeconfig, Files.readAllLines(kubeconfig).stream().filter(l -> !l.strip().startsWith("namespace:"))
                .toList());
        Map<String, String> env = new HashMap<>();
        env.put("KUBECONFIG", kubeconfig.toString());
        env.put("FINETUNE_OPERATOR_LEADER_ELECTION_LEASE_NAMESPACE", null);
        env.put("KUBERNETES_NAMESPACE", null);
        OperatorProcess op = track(replicas.start(env, "no-namespace").get(0));

        submit("nons-1");
        awaitJob("nons-1", Duration.ofSeconds(30));
        assertThat(op.log().lines().filter(l -> l.contains("Leader election is off")).count()).as(op.log()).isEqualTo(1);
        assertThat(op.log()).contains("FINETUNE_OPERATOR_LEADER_ELECTION_LEASE_NAMESPACE")
                .doesNotContain("Lease namespace is not set");
        Duration exit = op.terminate(Duration.ofSeconds(30));
        assertThat(exit).as("exit after SIGTERM:\n" + op.log()).isNotNull().isLessThan(SIGTERM_LIMIT);
    }

    @Test
    @Order(3)
    void theApiServerRestartedUnderARunningOperatorItReconnectsAndReconcilesNewJobs() throws Exception {
        // Renew deadline longer than the outage: a leader that cannot renew for that long exits by design.
        OperatorReplicas patient = new OperatorReplicas(kube, work, Duration.ofSeconds(90), Duration.ofSeconds(75),
                Duration.ofSeconds(2));
        OperatorProcess op = track(patient.start("restart"));
        patient.awaitHolder(op, System.nanoTime(), Duration.ofSeconds(30));
        submit("before-restart");
        awaitJob("before-restart", Duration.ofSeconds(30));

        long t0 = System.nanoTime();
        kube.restartApiServer(Duration.ofSeconds(3));
        long up = System.nanoTime();
        submit("after-restart");
        awaitJob("after-restart", Duration.ofSeconds(120));
        System.out.printf("API server down and back in %d ms; the operator created the next Job %d ms after it was up%n",
                (up - t0) / 1_000_000, (System.nanoTime() - up) / 1_000_000);
        assertThat(op.isAlive()).as(op.log()).isTrue();
        assertThat(counter(op, "finetune_jobs_created_total")).isEqualTo(2.0);
        assertThat(op.terminate(Duration.ofSeconds(30))).as(op.log()).isNotNull().isLessThan(SIGTERM_LIMIT);
    }

    @Test
    @Order(4)
    void killedWhileCreatingManyJobsAndRestartedEveryJobEndsWithExactlyOneOfEachObject() throws Exception {
        OperatorProcess first = track(replicas.start("mass-1"));
        replicas.awaitHolder(first, System.nanoTime(), Duration.ofSeconds(30));
        ExecutorService pool = Executors.newFixedThreadPool(4);
        List<Future<FineTuneJob>> creates = IntStream.range(0, MANY)
                .mapToObj(i -> pool.submit(() -> submit("mass-" + i))).toList();
        await(() -> jobsOf("mass-") >= 5 ? Boolean.TRUE : null, Duration.ofSeconds(60), "the first Jobs");
        first.kill();
        long killed = System.nanoTime();
        for (Future<FineTuneJob> f : creates) {
            f.get();
        }
        pool.shutdown();
        int jobsAtKill = jobsOf("mass-");
        assertThat(jobsAtKill).as("killed in the middle of the work").isLessThan(MANY);

        OperatorProcess second = track(replicas.start("mass-2"));
        Duration takeover = replicas.awaitHolder(second, killed, Duration.ofSeconds(60));
        Map<String, FineTuneJob> jobs = admin().resources(FineTuneJob.class).inNamespace(NS).list().getItems().stream()
                .filter(j -> j.getMetadata().getName().startsWith("mass-"))
                .collect(Collectors.toMap(j -> j.getMetadata().getUid(), j -> j));
        assertThat(jobs).hasSize(MANY);
        await(() -> ownedCounts(jobs).values().stream().allMatch(c -> c.values().stream().allMatch(n -> n >= 1)
                && c.size() == 5) ? Boolean.TRUE : null, Duration.ofSeconds(120), "every FineTuneJob's objects");
        Thread.sleep(2000);   // a duplicate would be created now, if ever
        Map<String, Map<String, Integer>> counts = ownedCounts(jobs);
        counts.forEach((uid, byKind) -> assertThat(byKind).as(jobs.get(uid).getMetadata().getName())
                .isEqualTo(Map.of("ConfigMap", 1, "Job", 1, "Role", 1, "RoleBinding", 1, "ServiceAccount", 1)));
        await(() -> jobs.values().stream().allMatch(j -> phase(j) == Phase.Pending) ? Boolean.TRUE : null,
                Duration.ofSeconds(60), "every FineTuneJob to be Pending");
        assertThat(counter(second, "finetune_jobs_created_total")).isEqualTo(MANY - jobsAtKill);
        System.out.printf("SIGKILL with %d of %d Jobs created; the restarted replica took the Lease %d ms after the kill"
                + " (lease %d s) and created the other %d%n", jobsAtKill, MANY, takeover.toMillis(),
                replicas.leaseDuration().toSeconds(), MANY - jobsAtKill);
    }

    @Test
    @Order(5)
    void twoReplicasOneActsTheOtherTakesOverOnSigkillWithinTheLeaseAndAtOnceOnSigterm() throws Exception {
        OperatorProcess leader = track(replicas.start("ha-a"));
        replicas.awaitHolder(leader, System.nanoTime(), Duration.ofSeconds(30));
        List<OperatorProcess> standbys = replicas.start(Map.of(), "ha-b", "ha-c");
        started.addAll(standbys);
        submit("ha-1");
        awaitJob("ha-1", Duration.ofSeconds(30));
        assertThat(counter(leader, "finetune_jobs_created_total")).isEqualTo(1.0);
        for (OperatorProcess s : standbys) {
            assertThat(counter(s, "finetune_jobs_created_total")).as("a standby creates nothing").isEqualTo(0.0);
        }

        leader.kill();
        long killed = System.nanoTime();
        OperatorProcess next = await(() -> standbys.stream().filter(s -> s.leaseIdentity().equals(replicas.holder()))
                .findFirst().orElse(null), Duration.ofSeconds(60), "a standby to take the Lease");
        Duration afterKill = Duration.ofNanos(System.nanoTime() - killed);
        submit("ha-2");
        awaitJob("ha-2", Duration.ofSeconds(30));
        assertThat(counter(next, "finetune_jobs_created_total")).isEqualTo(1.0);
        OperatorProcess last = standbys.get(0) == next ? standbys.get(1) : standbys.get(0);
        assertThat(counter(last, "finetune_jobs_created_total")).isEqualTo(0.0);

        Duration exit = next.terminate(Duration.ofSeconds(30));
        long termed = System.nanoTime() - (exit == null ? 0 : exit.toNanos());
        assertThat(exit).as("leader's exit after SIGTERM:\n" + next.log()).isNotNull().isLessThan(SIGTERM_LIMIT);
        Duration afterTerm = replicas.awaitHolder(last, termed, Duration.ofSeconds(60));
        submit("ha-3");
        awaitJob("ha-3", Duration.ofSeconds(30));

        Duration standbyExit = standbyExit();
        Duration lastExit = last.terminate(Duration.ofSeconds(30));
        System.out.printf("failover after SIGKILL of the leader: %d ms (lease %d s, retry %d s); after SIGTERM: leader"
                + " exited in %d ms, standby leading %d ms after the signal; a standby exits in %d ms, the last leader in"
                + " %d ms%n", afterKill.toMillis(), replicas.leaseDuration().toSeconds(),
                replicas.retryPeriod().toSeconds(), exit.toMillis(), afterTerm.toMillis(), standbyExit.toMillis(),
                lastExit == null ? -1 : lastExit.toMillis());
        // Lease expiry bounds a SIGKILL failover; a released Lease is taken at the standby's next retry.
        assertThat(afterKill).isGreaterThan(replicas.leaseDuration().minus(replicas.retryPeriod().multipliedBy(2)))
                .isLessThan(replicas.leaseDuration().plus(Duration.ofSeconds(8)));
        assertThat(afterTerm).isLessThan(replicas.leaseDuration().dividedBy(2));
        assertThat(lastExit).as(last.log()).isNotNull().isLessThan(SIGTERM_LIMIT);
        assertThat(replicas.holder()).isEmpty();
    }

    /** A replica started as standby next to the leader exits on SIGTERM as fast, leaving the Lease to the leader. */
    private static Duration standbyExit() throws Exception {
        String holder = replicas.holder();
        OperatorProcess standby = track(replicas.start("ha-d"));
        assertThat(standby.leaseIdentity()).isNotEqualTo(holder);
        Duration exit = standby.terminate(Duration.ofSeconds(30));
        assertThat(exit).as("standby's exit after SIGTERM:\n" + standby.log()).isNotNull().isLessThan(SIGTERM_LIMIT);
        assertThat(replicas.holder()).isEqualTo(holder);
        return exit;
    }

    /** Jobs of the FineTuneJobs named {@code prefix*} (earlier tests left theirs in the namespace). */
    static int jobsOf(String prefix) {
        return (int) admin().batch().v1().jobs().inNamespace(NS).list().getItems().stream()
                .filter(j -> j.getMetadata().getName().startsWith(prefix)).count();
    }

    static Phase phase(FineTuneJob j) {
        FineTuneJob now = admin().resources(FineTuneJob.class).inNamespace(NS).withName(j.getMetadata().getName()).get();
        return now.getStatus() == null ? null : now.getStatus().phase;
    }

    /** For each FineTuneJob uid: how many objects of each kind name it as their controller owner. */
    static Map<String, Map<String, Integer>> ownedCounts(Map<String, FineTuneJob> jobs) {
        List<HasMetadata> all = new ArrayList<>();
        all.addAll(admin().batch().v1().jobs().inNamespace(NS).list().getItems());
        all.addAll(admin().configMaps().inNamespace(NS).list().getItems());
        all.addAll(admin().serviceAccounts().inNamespace(NS).list().getItems());
        all.addAll(admin().rbac().roles().inNamespace(NS).list().getItems());
        all.addAll(admin().rbac().roleBindings().inNamespace(NS).list().getItems());
        Map<String, Map<String, Integer>> out = new TreeMap<>();
        jobs.keySet().forEach(uid -> out.put(uid, new TreeMap<>()));
        for (HasMetadata o : all) {
            for (OwnerReference r : o.getMetadata().getOwnerReferences()) {
                if (Boolean.TRUE.equals(r.getController()) && out.containsKey(r.getUid())) {
                    out.get(r.getUid()).merge(o.getKind(), 1, Integer::sum);
                }
            }
        }
        return out;
    }
}
