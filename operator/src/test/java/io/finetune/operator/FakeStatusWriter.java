package io.finetune.operator;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.api.v1alpha1.FineTuneJobStatus;
import io.finetune.operator.status.StatusWriter;

/** The real writer with a failure switch (the API server rejecting a status write) and a write counter. */
final class FakeStatusWriter extends StatusWriter {
    boolean failWrites;
    int writes;
    /** Runs just before the write: lets a test interleave the trainer's own status patch. */
    Runnable beforeWrite = () -> { };

    FakeStatusWriter(KubernetesClient client) {
        super(client);
    }

    @Override
    public void write(FineTuneJob job, FineTuneJobStatus status) {
        if (failWrites) {
            throw new KubernetesClientException("injected: status write failed", 500, null);
        }
        writes++;
        beforeWrite.run();
        super.write(job, status);
    }
}
