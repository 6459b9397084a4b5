package io.finetune.trainer.run;

import io.finetune.trainer.distributed.ProcessGroup;
import io.finetune.trainer.storage.Storage;
import io.finetune.trainer.train.Checkpoints;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Every rank starts from the checkpoint rank 0 restored. Ranks of one pod share the work directory, so they find it there;
 * the pods of a gang (spec.resources.nodes) each have their own, so a rank other than 0 that does not hold rank 0's step
 * fetches the destination's newest checkpoint itself. That is rank 0's: rank 0 restored it and publishes no newer one
 * before every rank has joined training's first collective. Without this a resumed gang deadlocks (rank 0 resumes while
 * the others start afresh and wait in another collective) until the collective timeout fails every attempt.
 */
final class RankCheckpoint {
    /** The step all-reduced for "no checkpoint" (steps are never negative). */
    static final long NONE = -1;

    private RankCheckpoint() {
    }

    /**
     * Agrees on rank 0's checkpoint step (one collective on every rank) and, on a rank other than 0 without it, restores
     * it from {@code destination} into {@code output}.
     *
     * @throws IOException naming both steps when this rank cannot get rank 0's checkpoint
     */
    static void agree(ProcessGroup group, Storage storage, String destination, Path output, PrintStream log)
            throws IOException {
        long mine = step(output);
        long[] rankZeros = {group.rank() == 0 ? mine : NONE};
        group.allReduceMax(rankZeros);
        long wanted = rankZeros[0];
        if (group.rank() == 0 || mine == wanted) {
            return;
        }
        if (wanted != NONE) {
            Optional<Path> fetched = storage.fetchLatestCheckpoint(destination);
            if (fetched.isPresent() && Checkpoints.readState(fetched.get()).step() == wanted) {
                Path local = OutputClaim.restore(fetched.get(), output);
                log.printf("restored checkpoint %s from %s (rank 0's)%n", local.getFileName(), destination);
                return;
            }
        }
        throw new IOException("rank " + group.rank() + " cannot start from rank 0's checkpoint: rank 0 resumes from "
                + describe(wanted) + ", this rank's " + output + " holds " + describe(mine) + " and " + destination
                + " does not hold rank 0's");
    }

    private static long step(Path output) throws IOException {
        Optional<Path> latest = Checkpoints.latest(output);
        return latest.isEmpty() ? NONE : Checkpoints.readState(latest.get()).step();
    }

    private static String describe(long step) {
        return step == NONE ? "no checkpoint" : "step " + step;
    }
}
