package io.finetune.trainer;

import io.finetune.api.v1alpha1.DatasetSpec;
import io.finetune.api.v1alpha1.EvaluationSpec;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.api.v1alpha1.FineTuneJobSpec;
import io.finetune.api.v1alpha1.GaloreSpec;
import io.finetune.api.v1alpha1.LoraPlusSpec;
import io.finetune.api.v1alpha1.LoraSpec;
import io.finetune.api.v1alpha1.MethodSpec;
import io.finetune.api.v1alpha1.MethodType;
import io.finetune.api.v1alpha1.TrainingSpec;
import io.finetune.trainer.spec.DataSettings;
import io.finetune.trainer.spec.EvaluationSettings;
import io.finetune.trainer.spec.GaloreSettings;
import io.finetune.trainer.spec.LoraSettings;
import io.finetune.trainer.spec.MethodSettings;
import io.finetune.trainer.spec.RunSpec;
import io.finetune.trainer.spec.RunSpecReader;
import io.finetune.trainer.spec.TrainingSettings;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;

/**
 * Tests write settings as a user writes them (the CRD's spec blocks) and resolve them through the real manifest reader,
 * {@link RunSpecReader}, exactly as a run does.
 */
public final class Specs {
    private Specs() {
    }

    public static LoraSettings lora(LoraSpec spec) {
        return (LoraSettings) method(MethodType.LoRA, spec);
    }

    public static LoraSettings dora(LoraSpec spec) {
        return (LoraSettings) method(MethodType.DoRA, spec);
    }

    public static LoraSettings loraPlus(LoraSpec spec, LoraPlusSpec plus) {
        MethodSpec m = new MethodSpec();
        m.type = MethodType.LoRAPlus;
        m.lora = spec;
        m.loraPlus = plus;
        return (LoraSettings) RunSpecReader.method(m);
    }

    public static GaloreSettings galore(GaloreSpec spec) {
        MethodSpec m = new MethodSpec();
        m.type = MethodType.GaLore;
        m.galore = spec;
        return (GaloreSettings) RunSpecReader.method(m);
    }

    public static MethodSettings method(MethodSpec spec) {
        return RunSpecReader.method(spec);
    }

    public static TrainingSettings training(TrainingSpec spec) {
        return RunSpecReader.training(spec);
    }

    public static DataSettings data(DatasetSpec spec) {
        return RunSpecReader.data(spec);
    }

    public static EvaluationSettings evaluation(EvaluationSpec spec) {
        return RunSpecReader.evaluation(spec);
    }

    /** A job named "test" with this spec. */
    public static RunSpec run(FineTuneJobSpec spec) {
        FineTuneJob job = new FineTuneJob();
        job.setMetadata(new ObjectMetaBuilder().withName("test").build());
        job.setSpec(spec);
        return RunSpecReader.read(job);
    }

    private static MethodSettings method(MethodType type, LoraSpec spec) {
        MethodSpec m = new MethodSpec();
        m.type = type;
        m.lora = spec;
        return RunSpecReader.method(m);
    }
}
