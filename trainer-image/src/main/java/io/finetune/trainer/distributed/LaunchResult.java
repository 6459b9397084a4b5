package io.finetune.trainer.distributed;

import java.util.List;
import java.util.Map;

/**
 * The one exit code of a launch, composed from its children's: 0 when every child exited 0; {@value #STOPPED} when none
 * failed and some stopped after a checkpoint (SIGTERM: rerunning the same command resumes); otherwise the code of the
 * failure that is the cause, with an {@code error:} line naming its rank. The other ranks fail after the cause, because
 * their collectives break (the trainer exits {@value #PEER_LOST} then, naming the rank it lost), or are killed by the
 * launcher. A rank that lost its peer can still end first (a JVM that failed on a bad input takes a moment to exit after
 * its sockets close), so the cause is the first failure with a code other than {@value #PEER_LOST} that the launcher did
 * not kill, else the first failure.
 *
 * @param exitCode the launcher's exit code
 * @param error    the error line without its "error: " prefix, null when no child failed
 */
public record LaunchResult(int exitCode, String error) {
    /** The trainer's exit code after a SIGTERM and a checkpoint ({@code TrainerResult.PREEMPTED_EXIT_CODE}). */
    public static final int STOPPED = 75;
    /** The trainer's exit code when a collective failed (a peer died or hung): the resource class. */
    public static final int PEER_LOST = 4;

    /** One child's end. */
    public record ChildExit(int rank, int code) {
    }

    /**
     * @param exitsInOrder every child's exit, in the order they ended
     * @param killed       why the launcher killed a rank (destroyForcibly), by rank; absent for ranks that ended by themselves
     */
    public static LaunchResult compose(List<ChildExit> exitsInOrder, Map<Integer, String> killed) {
        boolean stopped = false;
        ChildExit first = null;
        ChildExit cause = null;
        for (ChildExit exit : exitsInOrder) {
            if (exit.code() == STOPPED) {
                stopped = true;
            } else if (exit.code() != 0) {
                first = first == null ? exit : first;
                if (cause == null && exit.code() != PEER_LOST && !killed.containsKey(exit.rank())) {
                    cause = exit;
                }
            }
        }
        if (first == null) {
            return new LaunchResult(stopped ? STOPPED : 0, null);
        }
        ChildExit chosen = cause != null ? cause : first;
        String why = killed.get(chosen.rank());
        String text = "rank " + chosen.rank() + " exited with code " + chosen.code()
                + (why == null ? "" : " (killed by the launcher: " + why + ")");
        if (chosen == first) {
            text += exitsInOrder.size() > 1 ? "; the first of " + exitsInOrder.size() + " ranks to fail" : "";
        } else {
            text += "; the cause: rank " + first.rank() + " ended first, with code " + PEER_LOST + ", having lost a peer";
        }
        return new LaunchResult(chosen.code(), text);
    }
}
