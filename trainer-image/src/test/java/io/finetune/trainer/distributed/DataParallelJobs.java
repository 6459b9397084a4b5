package io.finetune.trainer.distributed;

import io.finetune.trainer.TinyModels;
import java.nio.file.Files;
import java.nio.file.Path;

/** The tiny job the data-parallel tests train: the char model, the digit-reversal data, and a manifest per run. */
final class DataParallelJobs {
    private DataParallelJobs() {
    }

    /** The model under {@code dir/model} and 96 records in {@code dir/train.jsonl}. */
    static void writeInputs(Path dir) throws Exception {
        TinyModels.writeCharModel(dir.resolve("model"));
        TinyModels.writeReversalDataset(dir.resolve("train.jsonl"), 96);
    }

    static String methodBlock(String method) {
        return switch (method) {
            case "LoRA", "DoRA" -> "type: " + method + "\n    lora: {rank: 4, targetModules: [all-linear]}";
            // LoRA over the NF4-quantized base (spec.model.quantization, see job): every rank quantizes the same weights
            case "QLoRA" -> "type: LoRA\n    lora: {rank: 4, targetModules: [all-linear]}";
            case "LoRAPlus" -> "type: LoRAPlus\n    lora: {rank: 4, targetModules: [all-linear]}\n    loraPlus: {learningRateRatio: 4}";
            // rank 2, not 4: on this tiny model the 4th and 5th singular values of some gradients nearly coincide, and
            // there an SVD turns the last-bit differences of a sum added in another order into a ~3e-4 different basis
            // (measured at rank 4); at rank 2 the projected subspace is well separated and the trajectories agree
            case "GaLore" -> "type: GaLore\n    galore: {rank: 2, updateProjectionGap: 2, scale: 0.25}";
            default -> "type: Full";
        };
    }

    static Path job(Path dir, String name, String method, int batch, int steps, int checkpointEvery, Path out)
            throws Exception {
        String yaml = """
                apiVersion: finetune.io/v1alpha1
                kind: FineTuneJob
                metadata:
                  name: %s
                spec:
                  model:
                    source: file://%s%s
                  dataset:
                    source: file://%s
                    format: prompt-completion
                    evalFraction: 0.2
                    maxSeqLength: 32
                  method:
                    %s
                  training:
                    maxSteps: %d
                    batchSize: %d
                    learningRate: 0.005
                    checkpointEverySteps: %d
                    logEverySteps: 1
                  resources:
                    collectiveTimeoutSeconds: 20
                  output:
                    destination: file://%s
                """.formatted(name, dir.resolve("model"), method.equals("QLoRA") ? "\n    quantization: {type: nf4}" : "", dir.resolve("train.jsonl"), methodBlock(method), steps, batch,
                checkpointEvery, out);
        Path f = dir.resolve(name + ".yaml");
        Files.writeString(f, yaml);
        return f;
    }
}
