package sparkconv.train;

import java.util.ArrayList;
import java.util.List;

/**
 * The one rule for which minibatches make which averaging round of an epoch: with {@code workers} workers averaging
 * every {@code frequency} minibatches, round {@code r} is the epoch's shard order's minibatches
 * {@code r·W·F .. (r+1)·W·F−1}, and worker {@code w} fits the {@code w}-th {@code F} of them. The epoch's leftover
 * shards (fewer than {@code W·F}) make one short last round, split among the workers as Spark's {@code parallelize}
 * slices a list. The layout depends only on the shard order, never on how the epoch is cut into chunks (Spark jobs).
 */
record RoundLayout(int workers, int frequency, int shards) {
    /** Shards in one full round. */
    int roundShards() {
        return workers * frequency;
    }

    /** Full rounds in the epoch. */
    int fullRounds() {
        return shards / roundShards();
    }

    /** Rounds in the epoch, the short last one included. */
    int rounds() {
        return (shards + roundShards() - 1) / roundShards();
    }

    /** The first round of the epoch's second half: every chunk ends here or at the epoch's last full round. */
    int middle() {
        return (fullRounds() + 1) / 2;
    }

    /**
     * Round {@code r} of one worker's partition (in a chunk laid out by {@link #byWorker}): its minibatches
     * {@code r·F .. r·F+F−1}, fewer at the partition's end (none past it). Both ways a round runs use it: a job per
     * round, and the barrier stage's task running the chunk's rounds in turn.
     */
    static <T> List<T> workerRound(List<T> partition, int r, int frequency) {
        return partition.subList(Math.min(partition.size(), r * frequency), Math.min(partition.size(), (r + 1) * frequency));
    }

    /**
     * Full rounds {@code chunk} (a whole number of them, in shard order) laid out for {@code workers} equal partitions
     * (Spark's {@code parallelize} cuts a list into contiguous slices): round {@code j} of worker {@code w} is the
     * chunk's minibatches {@code (j*workers + w)*frequency} to {@code +frequency}.
     */
    List<String> byWorker(List<String> chunk) {
        int rounds = chunk.size() / roundShards();
        List<String> laidOut = new ArrayList<>(chunk.size());
        for (int w = 0; w < workers; w++) {
            for (int j = 0; j < rounds; j++) {
                int first = (j * workers + w) * frequency;
                laidOut.addAll(chunk.subList(first, first + frequency));
            }
        }
        return laidOut;
    }
}
