package io.finetune.operator.status;

import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.operator.naming.Names;
import org.jboss.logging.Logger;
import java.time.Clock;
import java.util.UUID;

/** Records core/v1 Events on a FineTuneJob (what `kubectl describe ftj` shows). A failed event never fails a reconcile. */
public class EventRecorder {
    private static final Logger LOG = Logger.getLogger(EventRecorder.class);
    private static final int MAX_MESSAGE = 1024;

    /** Normal or Warning, as Kubernetes defines event types. */
    public enum Type { Normal, Warning }

    private final KubernetesClient client;
    private final Clock clock;

    public EventRecorder(KubernetesClient client, Clock clock) {
        this.client = client;
        this.clock = clock;
    }

    public void record(FineTuneJob job, Type type, StatusReason reason, String message) {
        String now = clock.instant().toString();
        String text = message == null ? "" : message.length() <= MAX_MESSAGE ? message : message.substring(0, MAX_MESSAGE) + "...";
        try {
            client.v1().events().inNamespace(job.getMetadata().getNamespace()).resource(new EventBuilder()
                    .withNewMetadata()
                    .withName(job.getMetadata().getName() + "." + UUID.randomUUID().toString().substring(0, 13).replace("-", ""))
                    .withNamespace(job.getMetadata().getNamespace())
                    .endMetadata()
                    .withInvolvedObject(new ObjectReferenceBuilder()
                            .withApiVersion(FineTuneJob.API_VERSION).withKind("FineTuneJob")
                            .withName(job.getMetadata().getName()).withNamespace(job.getMetadata().getNamespace())
                            .withUid(job.getMetadata().getUid()).withResourceVersion(job.getMetadata().getResourceVersion())
                            .build())
                    .withType(type.name())
                    .withReason(reason.name())
                    .withMessage(text)
                    .withFirstTimestamp(now)
                    .withLastTimestamp(now)
                    .withCount(1)
                    .withNewSource().withComponent(Names.MANAGED_BY).endSource()
                    .withReportingComponent(Names.MANAGED_BY)
                    .build()).create();
        } catch (KubernetesClientException e) {
            LOG.warnf("could not record event %s on %s/%s: %s", reason, job.getMetadata().getNamespace(),
                    job.getMetadata().getName(), e.getMessage());
        }
    }
}
