package io.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.kubernetes.api.model.Toleration;
import java.util.List;
import java.util.Map;

/** Hardware and scheduling of the training pod. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ResourcesSpec {
    /** Kubernetes quantity syntax, e.g. 500m, 4, 16Gi. */
    static final String QUANTITY = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$";

    @Min(0)
    @Max(64)
    @JsonPropertyDescription("GPUs for the training pod, set as a limit on gpuResourceName. 0 runs on CPU. Default: 1.")
    public Integer gpus = 1;

    @Min(1)
    @Max(256)
    @JsonPropertyDescription("Pods (nodes) of a data-parallel gang, each running gpus processes (one per GPU; one on CPU): the "
            + "world size is nodes x processes per pod. All pods are one Job (one Kueue workload); ranks are assigned once every "
            + "pod of an attempt has started, and any failed pod restarts the whole gang from the last checkpoint. Default: 1.")
    public Integer nodes = 1;

    @Min(1)
    @Max(86400)
    @JsonPropertyDescription("Seconds any collective of a data-parallel run (more than one process) may wait for the other "
            + "ranks before every rank fails naming the one it waited for: a rank that died, hung or was OOM-killed "
            + "ends the whole run within this bound. Default: 300.")
    public Integer collectiveTimeoutSeconds = 300;

    @Pattern("^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$")
    @JsonPropertyDescription("Extended resource name of the GPU. Default: nvidia.com/gpu.")
    public String gpuResourceName = "nvidia.com/gpu";

    @Pattern(QUANTITY)
    @JsonPropertyDescription("Memory of one GPU (Kubernetes quantity, e.g. 80Gi), for the preflight's memory check. Default: the "
            + "smallest nvidia.com/gpu.memory label (MiB) of the nodes matching nodeSelector; unchecked when none has it.")
    public String gpuMemory;

    @Pattern(QUANTITY)
    @JsonPropertyDescription("CPU request and limit for the training pod (Kubernetes quantity, e.g. 8). Default: operator default.")
    public String cpu;

    @Pattern(QUANTITY)
    @JsonPropertyDescription("Memory request and limit for the training pod (Kubernetes quantity, e.g. 64Gi). Default: operator default.")
    public String memory;

    @JsonPropertyDescription("Node labels the training pod must match. Default: none.")
    public Map<String, String> nodeSelector;

    @JsonPropertyDescription("Tolerations of the training pod (e.g. for tainted GPU nodes). Default: none.")
    public List<Toleration> tolerations;

    @JsonPropertyDescription("PriorityClass of the training pod. Default: none.")
    public String priorityClassName;
}
