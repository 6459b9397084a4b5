package io.finetune.e2e;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.finetune.testkit.ControlPlane;
import io.finetune.testkit.FakeNode;
import java.nio.file.Path;
import java.util.function.Function;

/**
 * What the operator's end-to-end classes share: a real control plane (with controllers) holding the CRD, the user namespace,
 * the packaged operator running as its own ServiceAccount, and one fake node with one nvidia.com/gpu (or more, for a
 * gang whose pods share the node) whose pods the given handler plays. Closed in reverse order, printing the operator's log.
 */
record OperatorCluster(ControlPlane kube, OperatorProcess operator, FakeNode node) implements AutoCloseable {

    static OperatorCluster start(Path work, String namespace, Function<ControlPlane, FakeNode.PodHandler> handler)
            throws Exception {
        return start(work, namespace, 1, handler);
    }

    /** The same with {@code gpus} nvidia.com/gpu on the node. */
    static OperatorCluster start(Path work, String namespace, int gpus, Function<ControlPlane, FakeNode.PodHandler> handler)
            throws Exception {
        ControlPlane kube = ControlPlane.builder().withControllers().withCrds(Repo.crdFor120(work)).start();   // skips without binaries
        OperatorProcess operator = null;
        try {
            Repo.operatorJar();
            kube.client().namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(namespace).endMetadata()
                    .build()).serverSideApply();
            operator = OperatorProcess.start(kube, work);
            FakeNode node = FakeNode.builder("gpu-node-1").capacity("nvidia.com/gpu", Integer.toString(gpus)).handler(handler.apply(kube))
                    .start(kube.client());
            return new OperatorCluster(kube, operator, node);
        } catch (Exception | Error e) {
            if (operator != null) {
                operator.close();
            }
            kube.close();
            throw e;
        }
    }

    @Override
    public void close() throws Exception {
        try {
            node.close();
        } finally {
            System.out.println("== operator log:\n" + operator.log());
            try {
                operator.close();
            } finally {
                kube.close();
            }
        }
    }
}
