package io.finetune.trainer.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import io.finetune.trainer.data.Batch;
import io.finetune.trainer.distributed.GradientBuckets;
import io.finetune.trainer.distributed.ProcessGroup;
import io.finetune.trainer.arrays.OwnedArrays;
import io.finetune.trainer.model.Parameter;
import java.util.ArrayList;
import java.util.List;

/**
 * The trainer's side of data parallelism (DDP's recipe, on an existing collective engine through {@link ProcessGroup}):
 * every rank builds the same global batches from the same seed and trains on its own contiguous rows of each
 * ({@link #shard}); the loss of every shard is divided by the GLOBAL batch's loss-token count, so the all-reduced SUM of
 * the gradients ({@link #reduceGradients}, in buckets of at most {@value #BUCKET_FLOATS} floats, once per optimizer step
 * and before clipping) is exactly the gradient one process would compute on the whole global batch; the optimizer then
 * takes the same step on every rank. At world size 1 every method here is the identity and no collective is called.
 *
 * <p>A bucket is one flat float32 array on the gradients' device, reduced by {@link ProcessGroup#allReduceSum(NDArray)}:
 * the same call for NCCL (which reduces it in device memory) and Gloo (which copies it through a host buffer).
 */
final class DataParallel {
    static final int BUCKET_FLOATS = GradientBuckets.BUCKET_FLOATS;

    private final ProcessGroup group;
    /** Wall time spent in the gradient all-reduce (copies to and from the bucket included), and how many steps. */
    private long reduceNanos;
    private int reducedSteps;

    DataParallel(ProcessGroup group) {
        this.group = group;
    }

    int rank() {
        return group.rank();
    }

    int worldSize() {
        return group.worldSize();
    }

    /** Rank 0 writes checkpoints, the best-eval weights, the artifact and the progress. */
    boolean isRankZero() {
        return group.rank() == 0;
    }

    /**
     * This rank's rows of a global batch: a contiguous block of ceil(rows / world) rows, in the global order. A rank left
     * without rows (a last batch smaller than the world) gets null: it still joins the collectives, with zero gradients.
     */
    Batch shard(Batch global) {
        int world = group.worldSize();
        if (world == 1) {
            return global;
        }
        int per = (global.batchSize() + world - 1) / world;
        int from = Math.min(global.batchSize(), group.rank() * per);
        int to = Math.min(global.batchSize(), from + per);
        return from == to ? null : global.rows(from, to);
    }

    /**
     * Sums the gradients and this rank's loss over all ranks, in place; returns the global loss. Each bucket's gradients
     * are concatenated into one flat array on their device, reduced by the engine, and copied back into each gradient's
     * own storage.
     */
    double reduceGradients(List<NDArray> grads, double localLoss) {
        if (group.worldSize() == 1) {
            return localLoss;
        }
        long started = System.nanoTime();
        List<Integer> members = new ArrayList<>();
        long filled = 0;
        for (int i = 0; i < grads.size(); i++) {
            long n = grads.get(i).size();
            if (!members.isEmpty() && filled + n > BUCKET_FLOATS) {
                reduceBucket(grads, members);
                members.clear();
                filled = 0;
            }
            members.add(i);
            filled += n;
        }
        if (!members.isEmpty()) {
            reduceBucket(grads, members);
        }
        double loss = sumOverRanks(localLoss)[0];
        reduceNanos += System.nanoTime() - started;
        reducedSteps++;
        return loss;
    }

    private void reduceBucket(List<NDArray> grads, List<Integer> members) {
        // every intermediate (the flattened views, the bucket, its slices) lives in this scope and is freed with it
        try (NDManager scope = grads.get(members.get(0)).getManager().newSubManager()) {
            NDList parts = new NDList(members.size());
            for (int i : members) {
                NDArray flat = grads.get(i).reshape(-1);
                flat.attach(scope);
                parts.add(flat);
            }
            NDArray bucket = NDArrays.concat(parts);   // a copy: contiguous, on the gradients' device
            bucket.attach(scope);
            group.allReduceSum(bucket);
            long at = 0;
            for (int i : members) {
                NDArray g = grads.get(i);
                NDArray reduced = bucket.get(new NDIndex("{}:{}", at, at + g.size())).reshape(g.getShape());
                reduced.attach(scope);
                at += g.size();
                OwnedArrays.copyInto(g, reduced);   // into the gradient's own storage (NDArray.set would re-point it)
            }
        }
    }

    /**
     * The held-out loss of all ranks together: each rank evaluates the batches {@code i % world == rank}, then the loss
     * sums and token counts are summed over ranks; every rank gets the same value.
     */
    double evalLoss(EvalSums local) {
        if (group.worldSize() == 1) {
            return local.tokens() == 0 ? Double.NaN : local.sum() / local.tokens();
        }
        double[] sums = sumOverRanks(local.sum(), local.tokens());
        return sums[1] == 0 ? Double.NaN : sums[0] / sums[1];
    }

    /**
     * Doubles summed over ranks through the float collective: each value travels as a float and its float remainder (hi +
     * lo), so the sum keeps ~1e-12 relative instead of a float's ~1e-7.
     */
    private double[] sumOverRanks(double... values) {
        float[] v = new float[2 * values.length];
        for (int i = 0; i < values.length; i++) {
            v[2 * i] = (float) values[i];
            v[2 * i + 1] = (float) (values[i] - (float) values[i]);
        }
        group.allReduceSum(v);
        double[] out = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (double) v[2 * i] + v[2 * i + 1];
        }
        return out;
    }

    /** Whether batch {@code i} of the eval set is this rank's to evaluate. */
    boolean evaluates(int i) {
        return i % group.worldSize() == group.rank();
    }

    /** Whether any rank asked to stop: every rank stops after the same step. */
    boolean anyRequested(boolean local) {
        if (group.worldSize() == 1) {
            return local;
        }
        long[] flag = {local ? 1 : 0};
        group.allReduceMax(flag);
        return flag[0] != 0;
    }

    /** Rank 0's values of the trainable parameters on every rank (after a restore, and as a guard at the start). */
    void broadcastFromRankZero(List<Parameter> trainable) {
        if (group.worldSize() == 1) {
            return;
        }
        for (Parameter p : trainable) {
            float[] v = p.array().toFloatArray();
            group.broadcast(v, 0);
            OwnedArrays.copyInto(p.array(), v);
        }
    }

    /** What the summary reports: the world size, the mean step time and the mean gradient all-reduce time per step. */
    TrainingSummary.Distributed report(double loopSeconds, int steps) {
        return new TrainingSummary.Distributed(group.worldSize(), steps == 0 ? 0 : loopSeconds / steps,
                reducedSteps == 0 ? 0 : reduceNanos / 1e9 / reducedSteps);
    }

    /** A rank's eval loss sum and loss-token count. */
    record EvalSums(double sum, long tokens) {
    }
}
