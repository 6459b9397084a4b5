package io.finetune.operator.desired;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.api.v1alpha1.ResourcesSpec;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * The GPU size the preflight plans for, or why it is unknown: spec.resources.gpuMemory, else the smallest
 * {@value #LABEL} (MiB) of the nodes matching the job's nodeSelector.
 */
public record GpuMemory(OptionalLong bytes, String note) {
    /** The label NVIDIA GPU feature discovery sets on GPU nodes: memory of one GPU in MiB. */
    public static final String LABEL = "nvidia.com/gpu.memory";

    public static GpuMemory of(FineTuneJob resource, KubernetesClient client) {
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
            nodes = client.nodes().withLabels(selector).withLabel(LABEL).list().getItems();
        } catch (KubernetesClientException e) {
            return new GpuMemory(OptionalLong.empty(), "GPU memory unknown: cannot list nodes (" + e.getCode()
                    + "); set spec.resources.gpuMemory; memory not checked");
        }
        OptionalLong mib = nodes.stream().map(n -> n.getMetadata().getLabels().get(LABEL))
                .filter(v -> v != null && v.matches("[0-9]{1,9}")).mapToLong(Long::parseLong).min();
        if (mib.isEmpty()) {
            return new GpuMemory(OptionalLong.empty(), "GPU memory unknown: no spec.resources.gpuMemory and no node matching "
                    + "the job's nodeSelector has the " + LABEL + " label; memory not checked");
        }
        return new GpuMemory(OptionalLong.of(mib.getAsLong() << 20), null);
    }
}
