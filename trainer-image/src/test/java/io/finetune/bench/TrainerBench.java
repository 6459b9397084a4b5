package io.finetune.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import io.finetune.api.v1alpha1.GaloreSpec;
import io.finetune.api.v1alpha1.LoraSpec;
import io.finetune.api.v1alpha1.MethodSpec;
import io.finetune.api.v1alpha1.MethodType;
import io.finetune.api.v1alpha1.TrainingSpec;
import io.finetune.trainer.Specs;
import io.finetune.trainer.data.Batch;
import io.finetune.trainer.process.NativeAllocator;
import io.finetune.trainer.method.TrainingMethod;
import io.finetune.trainer.method.TrainingMethods;
import io.finetune.trainer.model.CausalLmLoss;
import io.finetune.trainer.model.LlamaModel;
import io.finetune.trainer.quant.QuantType;
import io.finetune.trainer.quant.Quantizer;
import io.finetune.trainer.model.Parameter;
import io.finetune.trainer.model.ModelPreset;
import io.finetune.trainer.precision.ComputePrecision;
import io.finetune.trainer.data.BatchSource;
import io.finetune.trainer.train.Trainer;
import io.finetune.trainer.train.TrainingData;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Benchmark driver for bench/run.sh (not a unit test). Two modes, each prints ONE line of key=value pairs:
 * <pre>
 *   train MODEL_DIR METHOD BATCH SEQ WARMUP STEPS   -> tokens/s of fwd+bwd+optimizer steps (warm-up steps excluded)
 *   matmul N REPS                                   -> fp32 N x N matmul GFLOP/s through DJL (2 N^3 flops each)
 *   stepmem MODEL_DIR|tiny|small METHOD BATCH SEQ FP32|BF16
 *                                                   -> one step's measured working set ({@link StepWorkingSet}) next to
 *                                                      the memory plan's activation estimate for the same shape
 * </pre>
 * The batch is the same deterministic one bench/torch_bench.py builds: row b, position t holds 4 + (13 b + t) mod (V - 4),
 * one record per row (no padding), labels = inputs (the model shifts). Methods: LoRA r=16 alpha=32 all-linear, dropout 0;
 * Full; GaLore rank 32, projection gap 200, scale 0.25, all-linear. The line also carries the lm_head/loss chunk size in
 * use ({@code -Dfinetune.lossChunkTokens=0} for the unchunked loss; 0 in the line when the unchunked path ran), the resident
 * set before the first step and the process's peak resident set (VmHWM) after the timed steps.
 *
 * <p>{@code -Dbench.trace=FILE} records the timed steps of {@code train} with libtorch's autograd profiler (through DJL) and
 * writes a Chrome trace (open in chrome://tracing or Perfetto) to FILE; the printed rate then includes the profiler's
 * overhead, and the line says {@code trace=FILE}. This is how the largest per-step costs were found.
 */
public final class TrainerBench {
    /** The learning rate of every benchmark step (bench/torch_bench.py uses the same; the table reads it from the line). */
    static final double LR = 1e-4;
    /** The stepmem method name of LoRA over an NF4 base with double quantization. */
    static final String QLORA = "QLoRA";

    private TrainerBench() {
    }

    public static void main(String[] args) throws Exception {
        NativeAllocator.configure(); // as the trainer's Main does
        if (args.length >= 1 && args[0].equals("matmul")) {
            matmul(Integer.parseInt(args[1]), Integer.parseInt(args[2]));
        } else if (args.length == 6 && args[0].equals("stepmem")) {
            stepmem(args[1], args[2], Integer.parseInt(args[3]), Integer.parseInt(args[4]),
                    ComputePrecision.valueOf(args[5]));
        } else if (args.length == 7 && args[0].equals("train")) {
            train(Path.of(args[1]), MethodType.valueOf(args[2]), Integer.parseInt(args[3]), Integer.parseInt(args[4]),
                    Integer.parseInt(args[5]), Integer.parseInt(args[6]));
        } else {
            System.err.println("usage: TrainerBench train MODEL_DIR LoRA|Full|GaLore BATCH SEQ WARMUP STEPS | matmul N REPS"
                    + " | stepmem MODEL_DIR|tiny|small METHOD|QLoRA BATCH SEQ FP32|BF16");
            System.exit(2);
        }
    }

    /**
     * {@code method} is a {@link MethodType} name or {@code QLoRA}: LoRA over the base quantized at load to NF4 with double
     * quantization (what the plan offers as QLoRA), each layer then recomputed in the backward.
     */
    static void stepmem(String model, String method, int batch, int seq, ComputePrecision precision) throws Exception {
        boolean qlora = method.equals(QLORA);
        MethodType type = qlora ? MethodType.LoRA : MethodType.valueOf(method);
        Quantizer quantizer = qlora ? new Quantizer(QuantType.NF4, true) : null;
        ModelPreset preset = java.util.Arrays.stream(ModelPreset.values()).filter(p -> p.id().equals(model)).findFirst()
                .orElse(null);
        try (LlamaModel m = preset != null ? LlamaModel.random(preset.config(), 42, NDManager.newBaseManager(), quantizer)
                : quantizer != null ? LlamaModel.load(Path.of(model), NDManager.newBaseManager(), quantizer)
                : LlamaModel.load(Path.of(model), NDManager.newBaseManager())) {
            PlanVsMeasured.Row row = PlanVsMeasured.measure(m, type, batch, seq, precision);
            System.out.printf("side=java stepmem model=%s method=%s settings=%s batch=%d seq=%d precision=%s loss_chunk=%d"
                            + " measured=%d plan_activations=%d ratio=%.3f%n", model, method,
                    PlanVsMeasured.settings(type) + (qlora ? ",nf4,doubleQuant" : ""), batch, seq, precision,
                    CausalLmLoss.chunkTokens(), row.measuredBytes(), row.planActivationBytes(), row.ratio());
        }
    }

    static MethodSpec method(MethodType type) {
        MethodSpec m = new MethodSpec();
        m.type = type;
        if (type == MethodType.LoRA) {
            m.lora = new LoraSpec();
            m.lora.rank = 16;
            m.lora.alpha = 32.0;
            m.lora.dropout = 0.0;
        } else if (type == MethodType.GaLore) {
            m.galore = new GaloreSpec();
            m.galore.rank = 32;
            m.galore.updateProjectionGap = 200;
            m.galore.scale = 0.25;
        }
        return m;
    }

    static Batch batch(int batch, int seq, int vocab) {
        int[][] rows = new int[batch][seq];
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < seq; t++) {
                rows[b][t] = 4 + (13 * b + t) % (vocab - 4);
            }
        }
        return Batch.ofSequences(rows, 0);
    }

    static void train(Path dir, MethodType type, int batch, int seq, int warmup, int steps) throws Exception {
        try (LlamaModel model = LlamaModel.load(dir, NDManager.newBaseManager())) {
            TrainingMethod method = TrainingMethods.create(Specs.method(method(type)));
            method.attach(model, 1);
            long trainable = method.trainableParameters(model).stream().mapToLong(Parameter::numel).sum();
            TrainingSpec ts = new TrainingSpec();
            ts.maxSteps = warmup + steps;
            ts.checkpointEverySteps = 0;
            Batch data = batch(batch, seq, model.config().vocabSize());
            BatchSource source = new BatchSource() {
                @Override
                public int batchesPerEpoch() {
                    return 1;
                }

                @Override
                public List<Batch> epoch(long seed, int epoch) {
                    return List.of(data);
                }
            };
            Trainer t = new Trainer(model, method, Specs.training(ts), new TrainingData(source, List.of(), null), Files.createTempDirectory("bench"), new PrintStream(OutputStream.nullOutputStream()));
            long rssBefore = procStatusBytes("VmRSS");
            double loss = 0;
            for (int i = 0; i < warmup; i++) {
                loss = t.step(List.of(data), LR, i);
            }
            String trace = System.getProperty("bench.trace");
            if (trace != null) {
                JniUtils.startProfile(false, true, false); // CPU only, with input shapes, no memory events
            }
            long start = System.nanoTime();
            for (int i = 0; i < steps; i++) {
                loss = t.step(List.of(data), LR, warmup + i);
            }
            double secs = (System.nanoTime() - start) / 1e9;
            if (trace != null) {
                JniUtils.stopProfile(Path.of(trace).toAbsolutePath().toString());
            }
            long params = model.allParameters().stream().mapToLong(Parameter::numel).sum();
            long peak = procStatusBytes("VmHWM");   // before the matmul probe below, which allocates its own operands
            // This process's own 1024 matmul rate, measured after the timed steps in the same threads: the table normalises
            // the tokens/s ratio by the two sides' rates (bench/tables.py).
            double gflops = matmulRate(1024, 20);
            MethodSpec spec = method(type);
            String settings = switch (type) {
                case LoRA -> String.format(" lora_rank=%d lora_alpha=%s lora_dropout=%s", spec.lora.rank, spec.lora.alpha,
                        spec.lora.dropout);
                case GaLore -> String.format(" galore_rank=%d galore_gap=%d galore_scale=%s", spec.galore.rank,
                        spec.galore.updateProjectionGap, spec.galore.scale);
                default -> "";
            };
            System.out.printf("side=java method=%s params=%d base_params=%d trainable=%d tokens_per_s=%.1f ms_per_step=%.1f"
                            + " loss=%.4f engine=%s loss_chunk=%d rss_before=%d peak_rss=%d matmul_gflops=%.1f lr=%s"
                            + " max_grad_norm=%s%s%s%n", type, params,
                    model.totalParameters(), trainable, (double) steps * batch * seq / secs, secs * 1000 / steps, loss,
                    Engine.getInstance().getVersion(), CausalLmLoss.chunkable(model) && batch * seq > CausalLmLoss.chunkTokens() ? CausalLmLoss.chunkTokens() : 0,
                    rssBefore, peak, gflops, LR, Specs.training(ts).maxGradNorm(), settings,
                    trace == null ? "" : " trace=" + trace);
        }
    }

    /**
     * A memory figure of this process from /proc/self/status in bytes (VmRSS: resident now; VmHWM: the peak resident set
     * since start, which covers libtorch's native tensors as well as the JVM), or -1 where there is no /proc.
     */
    static long procStatusBytes(String key) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(key + ":")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (java.io.IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }

    static void matmul(int n, int reps) {
        System.out.printf("side=java matmul_n=%d gflops=%.1f%n", n, matmulRate(n, reps));
    }

    /** fp32 n x n matmul GFLOP/s through DJL (2 n^3 flops each), 3 untimed then {@code reps} timed. */
    static double matmulRate(int n, int reps) {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray a = m.randomUniform(-1f, 1f, new Shape(n, n));
            NDArray b = m.randomUniform(-1f, 1f, new Shape(n, n));
            for (int i = 0; i < 3; i++) {
                try (NDManager sub = m.newSubManager()) {
                    NDArray c = a.matMul(b);
                    c.attach(sub);
                    c.toFloatArray(); // forces completion
                }
            }
            long start = System.nanoTime();
            for (int i = 0; i < reps; i++) {
                try (NDManager sub = m.newSubManager()) {
                    NDArray c = a.matMul(b);
                    c.attach(sub);
                    c.getFloat(0, 0);
                }
            }
            double secs = (System.nanoTime() - start) / 1e9;
            return 2.0 * n * n * n * reps / secs / 1e9;
        }
    }
}
