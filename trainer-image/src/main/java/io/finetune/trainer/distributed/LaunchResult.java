package io.finetune.trainer.distributed;

import java.util.List;
import java.util.Map;

/**
 * The one exit code of a launch, composed from its children's: 0 when every child exited 0; {@value #STOPPED} when none
 * failed and some stopped after a checkpoint (SIGTERM: rerunning the same command resumes); otherwise the code of the first
 * child to fail, with an {@code error:} line naming its rank. The first failure is the cause: the other ranks fail after it,
 * because their collectives break, or are killed by the launcher.
 *
 * @param exitCode the launcher's exit code
 * @param error    the error line without its "error: " prefix, null when no child failed
 */
public record LaunchResult(int exitCode, String error) {
    /** The trainer's exit code after a SIGTERM and a checkpoint ({@code TrainerResult.PREEMPTED_EXIT_CODE}). */
    public static final int STOPPED = 75;

    /** One child's end. */
    public record ChildExit(int rank, int code) {
    }

    /**
     * @param exitsInOrder every child's exit, in the order they ended
     * @param killed       why the launcher killed a rank (destroyForcibly), by rank; absent for ranks that ended by themselves
     */
    public static LaunchResult compose(List<ChildExit> exitsInOrder, Map<Integer, String> killed) {
        boolean stopped = false;
        for (ChildExit exit : exitsInOrder) {
            if (exit.code() == STOPPED) {
                stopped = true;
            } else if (exit.code() != 0) {
                String why = killed.get(exit.rank());
                return new LaunchResult(exit.code(), "rank " + exit.rank() + " exited with code " + exit.code()
                        + (why == null ? "" : " (killed by the launcher: " + why + ")")
                        + (exitsInOrder.size() > 1 ? "; the first of " + exitsInOrder.size() + " ranks to fail" : ""));
            }
        }
        return new LaunchResult(stopped ? STOPPED : 0, null);
    }
}
