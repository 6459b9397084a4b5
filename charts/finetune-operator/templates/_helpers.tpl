{{/* Names and labels shared by every template. */}}
{{- define "finetune-operator.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "finetune-operator.serviceAccountName" -}}
{{- default (include "finetune-operator.fullname" .) .Values.serviceAccount.name -}}
{{- end -}}

{{- define "finetune-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "finetune-operator.labels" -}}
{{ include "finetune-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "finetune-operator.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/*
The operator's permissions in every namespace it watches (ClusterRole when it watches all, else one Role per namespace).
Mirrors the @RBACRule annotations on io.finetune.operator.FineTuneJobReconciler; no rule touches Secrets: credentials reach
the trainer only as secretKeyRef env vars, which the kubelet resolves.
*/}}
{{- define "finetune-operator.rules" -}}
# The rules FineTuneJobController declares (@RBACRule), exactly: ChartMatchesOperatorRbacTest compares both ways.
# FineTuneJobs: the operator lists and watches them and patches their status. No create/update/delete: users own their jobs.
# get on the status: the per-job Role grants get/patch on it, and a client may grant only what it holds.
- apiGroups: ["finetune.io"]
  resources: ["finetunejobs"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["finetune.io"]
  resources: ["finetunejobs/status"]
  verbs: ["get", "patch"]
# Owned objects carry ownerReferences with blockOwnerDeletion, which the OwnerReferencesPermissionEnforcement admission
# plugin only allows to a client that may update the owner's finalizers.
- apiGroups: ["finetune.io"]
  resources: ["finetunejobs/finalizers"]
  verbs: ["update"]
# The training Job: created once, never updated (pod templates are immutable); patched only for its hold (suspend,
# parallelism) and its attempt ledger.
# No delete: garbage collection removes it with its FineTuneJob.
- apiGroups: ["batch"]
  resources: ["jobs"]
  verbs: ["get", "list", "watch", "create", "patch"]
# Pods: read for scheduling failures, container states and the trainer's termination message; patch for a gang's rank
# annotations (spec.resources.nodes).
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get", "list", "watch", "patch"]
# Evictions (never pod deletes): end the live pods of a gang attempt one of whose pods failed, within PodDisruptionBudgets.
- apiGroups: [""]
  resources: ["pods/eviction"]
  verbs: ["create"]
# Nodes: list only, for the preflight's GPU size (the nvidia.com/gpu.memory label of the nodes a job may land on). With
# watchNamespaces (Roles only) the list is refused and the preflight notes that memory was not checked.
- apiGroups: [""]
  resources: ["nodes"]
  verbs: ["list"]
# ConfigMap <job>-config: the resolved run configuration mounted by the trainer.
- apiGroups: [""]
  resources: ["configmaps"]
  verbs: ["get", "create", "update"]
# The per-job ServiceAccount the trainer pod runs as: created, a 409 meaning it exists (never read back).
- apiGroups: [""]
  resources: ["serviceaccounts"]
  verbs: ["create"]
# The per-job Role + RoleBinding (get/patch on finetunejobs/status of that one job). Creating them is escalation-safe without
# the escalate/bind verbs: Kubernetes only lets the operator grant what it holds itself, and it holds finetunejobs/status above.
- apiGroups: ["rbac.authorization.k8s.io"]
  resources: ["roles", "rolebindings"]
  verbs: ["create"]
# Events for each phase transition (kubectl describe ftj): created, never patched.
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create"]
{{- end -}}
