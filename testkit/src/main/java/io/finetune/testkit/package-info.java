/**
 * Test harness used as a test-scoped dependency: a real Kubernetes control plane on 127.0.0.1 ({@code ControlPlane}: etcd,
 * kube-apiserver, optionally controller-manager and scheduler, built by hack/kube-binaries.sh), a fake GPU node whose kubelet
 * the test plays ({@code FakeNode}, {@code BoundPod}, {@code PodStatuses}), and the GitOps health checks Argo CD and kstatus
 * run on a FineTuneJob ({@code GitOpsHealth}).
 */
package io.finetune.testkit;
