package io.finetune.operator;

import io.fabric8.kubernetes.api.model.Condition;
import io.finetune.operator.naming.Names;
import io.finetune.operator.settings.OperatorSettings;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.api.v1alpha1.FineTuneJobStatus;
import io.finetune.api.v1alpha1.Phase;
import io.finetune.operator.status.ConditionType;
import io.finetune.operator.status.Conditions;
import io.finetune.operator.status.EventRecorder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import java.util.Optional;
import java.util.stream.Stream;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

/**
 * Every spec the API server might let through (no CEL, old schema) but that cannot run: Failed, Valid=False with
 * reason InvalidSpec and a message naming the field, a Warning event, and nothing created. Never an exception.
 */
class BadInputTest extends ControllerTestBase {
    static final String OK_MODEL = "model: {source: pvc://models/tiny}\n";
    static final String OK_DATA = "dataset: {source: pvc://data/train.jsonl}\n";
    static final String OK_METHOD = "method: {type: LoRA}\n";
    static final String OK_OUTPUT = "output: {destination: pvc://out/run}\n";

    static Stream<Arguments> badSpecs() {
        return Stream.of(
                Arguments.of("spec.model.source", "model: {source: 'ftp://host/model'}\n" + OK_DATA + OK_METHOD + OK_OUTPUT),
                Arguments.of("spec.method.lora", OK_MODEL + OK_DATA + "method: {type: GaLore, lora: {rank: 8}}\n" + OK_OUTPUT),
                Arguments.of("spec.method.lora.rank", OK_MODEL + OK_DATA + "method: {type: LoRA, lora: {rank: 0}}\n" + OK_OUTPUT),
                Arguments.of("spec.method.lora.targetModules", OK_MODEL + OK_DATA
                        + "method: {type: DoRA, lora: {targetModules: []}}\n" + OK_OUTPUT),
                Arguments.of("spec.method.loraPlus.learningRateRatio", OK_MODEL + OK_DATA + "method: {type: LoRAPlus}\n" + OK_OUTPUT),
                Arguments.of("spec.method", OK_MODEL + OK_DATA + OK_OUTPUT),
                Arguments.of("spec.output.destination", OK_MODEL + OK_DATA + OK_METHOD + "output: {destination: 'hf://org/name'}\n"),
                Arguments.of("spec.training.learningRate", OK_MODEL + OK_DATA + OK_METHOD + OK_OUTPUT + "training: {learningRate: 0}\n"),
                Arguments.of("spec.resources.gpus", OK_MODEL + OK_DATA + OK_METHOD + OK_OUTPUT + "resources: {gpus: 100}\n"),
                Arguments.of("spec.training.precision", OK_MODEL + OK_DATA + OK_METHOD + OK_OUTPUT
                        + "training: {precision: fp16}\nresources: {gpus: 0}\n"),
                Arguments.of("spec.resources.cpu", OK_MODEL + OK_DATA + OK_METHOD + OK_OUTPUT + "resources: {cpu: lots}\n"),
                Arguments.of("spec.queueName", OK_MODEL + OK_DATA + OK_METHOD + OK_OUTPUT + "queueName: 'Team Queue'\n"),
                Arguments.of("spec.output.credentialsSecret", OK_MODEL
                        + "dataset: {source: 's3://data-bucket/train.jsonl', credentialsSecret: data-keys}\n" + OK_METHOD
                        + "output: {destination: 's3://out-bucket/run', credentialsSecret: other-keys}\n"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badSpecs")
    void invalidSpecFailsNamingTheFieldAndCreatesNothing(String field, String spec) {
        FineTuneJob ftj = create(TestJobs.parse("bad", spec));

        FineTuneJobStatus status = reconcile(ftj);

        assertInvalid(ftj, status, field);
    }

    @Test
    void moreThanOneGpuIsValidAndGetsOneTrainerProcessPerGpu() {
        FineTuneJob ftj = create(TestJobs.parse("twogpus", OK_MODEL + OK_DATA + OK_METHOD + OK_OUTPUT
                + "resources: {gpus: 2, gpuResourceName: nvidia.com/gpu}\n"));

        FineTuneJobStatus status = reconcile(ftj);

        assertThat(Conditions.find(status.conditions, ConditionType.Valid).orElseThrow().getStatus()).isEqualTo("True");
        assertThat(jobs()).singleElement().satisfies(job -> assertThat(job.getSpec().getTemplate().getSpec().getContainers()
                .get(0).getEnv()).anySatisfy(e -> {
                    assertThat(e.getName()).isEqualTo("FINETUNE_NPROC");
                    assertThat(e.getValue()).isEqualTo("2");
                }));
    }

    @Test
    void missingSpecIsReportedNotThrown() {
        FineTuneJob job = TestJobs.parse("nospec", OK_MODEL);
        job.setSpec(null);
        FineTuneJob ftj = create(job);

        assertThatCode(() -> reconcile(ftj)).doesNotThrowAnyException();
        assertInvalid(ftj, get(ftj).getStatus(), "spec");
    }

    @Test
    void nameTooLongForTheDerivedJobName() {
        String name = "a".repeat(Names.MAX_JOB_NAME_LENGTH + 1);
        FineTuneJob ftj = create(TestJobs.lora(name));

        assertInvalid(ftj, reconcile(ftj), "metadata.name");
    }

    @Test
    void noImageAnywhere() {
        controller = new FineTuneJobController(client, new OperatorSettings(Optional.empty(), "IfNotPresent", Optional.empty(),
                Optional.empty(), Optional.empty()), statusWriter, new EventRecorder(client, clock), metrics, clock);
        FineTuneJob ftj = create(TestJobs.lora("noimg"));

        assertInvalid(ftj, reconcile(ftj), "spec.image");
    }

    @Test
    void invalidSpecIsReportedOnceNotOnEveryPass() {
        FineTuneJob ftj = create(TestJobs.parse("once", OK_MODEL + OK_DATA + "method: {type: LoRA, lora: {rank: 0}}\n" + OK_OUTPUT));
        reconcile(ftj);
        int writes = statusWriter.writes;

        reconcile(ftj);
        reconcile(ftj);

        assertThat(statusWriter.writes).isEqualTo(writes);
        assertThat(events(ftj)).containsExactly("Warning InvalidSpec");
    }

    @Test
    void fixedSpecIsValidatedAgainAndRuns() {
        FineTuneJob ftj = create(TestJobs.parse("fixme", OK_MODEL + OK_DATA + "method: {type: LoRA, lora: {rank: 0}}\n" + OK_OUTPUT));
        reconcile(ftj);

        FineTuneJob edited = get(ftj);
        edited.getSpec().method.lora.rank = 8;
        edited.getMetadata().setGeneration(edited.getMetadata().getGeneration() + 1); // what the API server does on a spec edit
        client.resource(edited).update();
        FineTuneJobStatus status = reconcile(ftj);

        assertThat(status.phase).isEqualTo(Phase.Pending);
        assertThat(Conditions.find(status.conditions, ConditionType.Valid).orElseThrow().getStatus()).isEqualTo("True");
        assertThat(jobs()).hasSize(1);
    }

    private void assertInvalid(FineTuneJob ftj, FineTuneJobStatus status, String field) {
        assertThat(status.phase).isEqualTo(Phase.Failed);
        Condition valid = Conditions.find(status.conditions, ConditionType.Valid).orElseThrow();
        assertThat(valid.getStatus()).isEqualTo("False");
        assertThat(valid.getReason()).isEqualTo("InvalidSpec");
        assertThat(valid.getMessage()).contains(field + ": ");
        assertThat(Conditions.find(status.conditions, ConditionType.Failed).orElseThrow().getReason()).isEqualTo("InvalidSpec");
        assertThat(events(ftj)).contains("Warning InvalidSpec");
        assertThat(jobs()).as("no Job for an invalid spec").isEmpty();
        assertThat(client.configMaps().inNamespace(TestJobs.NAMESPACE).list().getItems()).isEmpty();
        assertThat(client.serviceAccounts().inNamespace(TestJobs.NAMESPACE).list().getItems()).isEmpty();
    }
}
