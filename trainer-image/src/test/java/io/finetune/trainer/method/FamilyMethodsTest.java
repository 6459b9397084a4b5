package io.finetune.trainer.method;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import io.finetune.api.v1alpha1.LoraPlusSpec;
import io.finetune.api.v1alpha1.LoraSpec;
import io.finetune.api.v1alpha1.MethodSpec;
import io.finetune.api.v1alpha1.MethodType;
import io.finetune.api.v1alpha1.SchedulerType;
import io.finetune.api.v1alpha1.TrainingSpec;
import io.finetune.trainer.Specs;
import io.finetune.trainer.TinyModels;
import io.finetune.trainer.data.Batch;
import io.finetune.trainer.method.lora.PeftAdapterWriter;
import io.finetune.trainer.model.LlamaModel;
import io.finetune.trainer.model.ModelConfig;
import io.finetune.trainer.model.TorchReference;
import io.finetune.trainer.spec.MethodSettings;
import io.finetune.trainer.train.Checkpoints;
import io.finetune.trainer.train.Trainer;
import io.finetune.trainer.train.TrainingData;
import io.finetune.trainer.train.TrainingSummary;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every method trains on every family's tiny Hugging Face model (the reference script's, tools/reference/families.py), and
 * after a short LoRA run the independent PyTorch reference, with the PEFT adapter we wrote applied, reproduces our eval loss.
 */
class FamilyMethodsTest {
    static final Path GOLDEN = Path.of("src/test/resources/golden");
    /** vocab 40 as the families' tiny models; rows of 12 tokens, longer than the windows (4 and 3). */
    static final List<Batch> TRAIN = TinyModels.countingBatches(4, 4, 12, 40, 7);
    static final List<Batch> EVAL = TinyModels.countingBatches(1, 4, 12, 40, 99);

    @TempDir
    Path dir;

    static TrainingSpec training() {
        TrainingSpec ts = new TrainingSpec();
        ts.maxSteps = 8;
        ts.learningRate = 5e-3;
        ts.warmupSteps = 0;
        ts.scheduler = SchedulerType.CONSTANT;
        ts.gradientAccumulationSteps = 1;
        ts.checkpointEverySteps = 1000;
        ts.logEverySteps = 1000;
        return ts;
    }

    static MethodSettings settings(MethodType type) {
        LoraSpec lora = MethodFixtures.lora(List.of("all-linear"));
        MethodSpec m = new MethodSpec();
        m.type = type;
        switch (type) {
            case LoRA, DoRA -> m.lora = lora;
            case LoRAPlus -> {
                m.lora = lora;
                m.loraPlus = new LoraPlusSpec();
                m.loraPlus.learningRateRatio = 16.0;
            }
            case GaLore -> m.galore = MethodFixtures.galore(List.of("all-linear"));
            case Full -> {
            }
        }
        return Specs.method(m);
    }

    private TrainingSummary train(LlamaModel model, TrainingMethod method, Path out) throws Exception {
        method.attach(model, 5);
        return new Trainer(model, method, Specs.training(training()), new TrainingData(TinyModels.fixed(TRAIN), EVAL, null),
                out, TinyModels.quiet()).run();
    }

    @ParameterizedTest(name = "{1} on {0}")
    @CsvSource({
        "mistral-window, LoRA", "mistral-window, DoRA", "mistral-window, LoRAPlus", "mistral-window, GaLore",
        "mistral-window, Full",
        "qwen2-window, LoRA", "qwen2-window, DoRA", "qwen2-window, LoRAPlus", "qwen2-window, GaLore", "qwen2-window, Full",
        "qwen3, LoRA", "qwen3, DoRA", "qwen3, LoRAPlus", "qwen3, GaLore", "qwen3, Full",
        "phi3, LoRA", "phi3, DoRA", "phi3, LoRAPlus", "phi3, GaLore", "phi3, Full",
        "gemma2, LoRA", "gemma2, DoRA", "gemma2, LoRAPlus", "gemma2, GaLore", "gemma2, Full",
        "gemma3, LoRA", "gemma3, DoRA", "gemma3, LoRAPlus", "gemma3, GaLore", "gemma3, Full"})
    void everyMethodTrainsOnEveryFamily(String family, MethodType type) throws Exception {
        try (LlamaModel model = LlamaModel.load(GOLDEN.resolve(family).resolve("model"), NDManager.newBaseManager())) {
            TrainingMethod method = TrainingMethods.create(settings(type));
            TrainingSummary s = train(model, method, dir.resolve("run"));
            assertThat(s.evalLossAfter()).as(type + " on " + family).isLessThan(s.evalLossBefore() - 0.05);
            MethodOutput written = method.saveOutput(model, OutputTarget.of(dir.resolve("out"), family));
            assertThat(written).isNotNull();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"mistral-window", "qwen2-window", "qwen3", "phi3", "gemma2", "gemma3"})
    void referenceWithOurAdapterReproducesOurEvalLoss(String family) throws Exception {
        TorchReference.require();
        Path modelDir = GOLDEN.resolve(family).resolve("model");
        Path adapter = dir.resolve("adapter");
        List<Batch> packed = List.of(TinyModels.batch(3, 40)); // a packed row and a padded row
        double ours;
        double oursPacked;
        ModelConfig config;
        try (LlamaModel model = LlamaModel.load(modelDir, NDManager.newBaseManager())) {
            config = model.config();
            TrainingMethod lora = TrainingMethods.create(settings(MethodType.LoRA));
            TrainingSummary s = train(model, lora, dir.resolve("run"));
            ours = s.evalLossAfter();
            assertThat(ours).isLessThan(s.evalLossBefore() - 0.05);
            oursPacked = Trainer.evalLoss(model, packed);
            lora.saveOutput(model, OutputTarget.of(adapter, family));
        }
        // PEFT's module names for the family: every linear of every layer, as ModelConfig.linears() lists them, lm_head not.
        Set<String> modules = Checkpoints.readTensors(adapter.resolve(PeftAdapterWriter.WEIGHTS)).keySet().stream()
                .map(k -> k.substring(PeftAdapterWriter.PREFIX.length(), k.indexOf(".lora_")))
                .collect(Collectors.toCollection(TreeSet::new));
        assertThat(modules).isEqualTo(config.linears().stream().map(ModelConfig.LinearShape::name)
                .filter(n -> !n.equals(ModelConfig.LM_HEAD)).collect(Collectors.toCollection(TreeSet::new)));
        // target_modules lists every leaf name of the family (q_proj ... down_proj; phi3: qkv_proj, o_proj, gate_up_proj, down_proj).
        assertThat(Files.readString(adapter.resolve(PeftAdapterWriter.CONFIG))).contains(modules.stream()
                .map(m -> "\"" + m.substring(m.lastIndexOf('.') + 1) + "\"").toList());
        if (!config.family().fusedProjections()) {
            assertThat(Files.readString(adapter.resolve(PeftAdapterWriter.CONFIG))).contains("\"q_proj\"", "\"down_proj\"");
        }
        double reference = TorchReference.evalLoss(modelDir, adapter, EVAL, dir);
        assertThat(Math.abs(ours - reference) / reference).as(family + " eval loss ours " + ours + " reference " + reference)
                .isLessThan(1e-4);
        double referencePacked = TorchReference.evalLoss(modelDir, adapter, packed, dir);
        assertThat(Math.abs(oursPacked - referencePacked) / referencePacked)
                .as(family + " packed eval loss ours " + oursPacked + " reference " + referencePacked).isLessThan(1e-4);
    }
}
