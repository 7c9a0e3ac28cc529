package sparkconv.train;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

import org.apache.spark.BarrierTaskContext;
import org.apache.spark.SparkEnv;
import org.apache.spark.network.buffer.ManagedBuffer;
import org.apache.spark.network.shuffle.BlockFetchingListener;
import org.apache.spark.storage.BlockId;
import org.apache.spark.storage.BlockManager;
import org.apache.spark.storage.BlockManagerId;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.storage.TestBlockId;
import org.apache.spark.util.io.ChunkedByteBuffer;

import scala.reflect.ClassTag$;

/**
 * The average of a barrier stage's tasks' vectors, exchanged between the tasks' own block managers: a reduce-scatter
 * then an all-gather, as in a ring all-reduce, so each task sends and receives about {@code 2·(W-1)/W} of a vector
 * per round and the driver carries only two small synchronisations ({@link AllGather}). The messages went through the
 * driver's barrier coordinator before, which sent every task every task's vector: {@code W²} vectors out of the
 * driver's link per round, which kept rounds in one job to a few workers on a cluster.
 * <p>
 * Task {@code j} owns slice {@code j} of the vector: it fetches that slice of every task's vector, sums them in task
 * order, divides, publishes the averaged slice, and every task assembles the slices. Each element is summed in task
 * order from the first task that sent one, so the average has the same bits as a sum of whole vectors in task order
 * (one worker: {@code x / 1 == x}). The blocks travel through Spark's block transfer service, with its
 * authentication and encryption ({@code spark.authenticate}, {@code spark.network.crypto.enabled}); they are named
 * {@code test_sparkconv-avg-...} because {@link TestBlockId} is the one block id Spark's fetch protocol takes with a
 * free-form name.
 */
final class PeerAverage implements AutoCloseable {
    private static final String ABSENT = "-";

    private final AllGather sync;
    private final BlockManager blocks;
    private final BlockManagerId[] peers;
    private final int me;
    private final String prefix;
    /** This task's slices of its vector for the others to sum: removed once every task has summed its slice. */
    private final List<BlockId> parts = new ArrayList<>();
    /** This task's averaged slice: removed once every task has assembled the average (at the next sync). */
    private final List<BlockId> averageBlocks = new ArrayList<>();
    private int round;
    /** This task's reused arrays and block buffers (the blocks' buffers are free again once their blocks are removed). */
    private final ReusedFloats ownSlices = new ReusedFloats();
    private final ReusedFloats fetchedSlices = new ReusedFloats();
    private final ReusedFloats averages = new ReusedFloats();
    private final java.util.Map<String, ByteBuffer> blockBuffers = new java.util.HashMap<>();

    /** An average over the tasks that sent a vector this round, in task order, and their mean score. */
    record Average(float[] values, double score) {
    }

    /** For the barrier task running on this thread: learns where every task's block manager is (one sync). */
    PeerAverage(AllGather sync) throws Exception {
        this.sync = sync;
        BarrierTaskContext task = BarrierTaskContext.get();
        this.me = task.partitionId();
        this.prefix = "sparkconv-avg-" + task.stageId() + "-" + task.stageAttemptNumber();
        this.blocks = SparkEnv.get().blockManager();
        BlockManagerId id = blocks.blockManagerId();
        String[] all = sync.exchange(id.executorId() + " " + id.host() + " " + id.port());
        this.peers = new BlockManagerId[all.length];
        for (int t = 0; t < all.length; t++) {
            String[] p = all[t].split(" ");
            peers[t] = BlockManagerId.apply(p[0], p[1], Integer.parseInt(p[2]), scala.Option.empty());
        }
    }

    /**
     * This round's average of {@code values} (null: this task has nothing this round and is left out) with the other
     * tasks', and of their {@code score}s; null when no task sent one. Every task must call it once per round.
     */
    Average average(float[] values, double score) throws Exception {
        int r = round++;
        int tasks = peers.length;
        if (tasks == 1) {
            return values == null ? null : new Average(values, score); // x / 1 == x: nothing to exchange
        }
        if (values != null) {
            for (int owner = 0; owner < tasks; owner++) {
                if (owner != me) { // this task sums its own slice from values
                    parts.add(put(block(r, "part", me, owner), "part-" + owner, values, from(owner, values.length),
                            from(owner + 1, values.length)));
                }
            }
        }
        String[] headers = sync.exchange(values == null ? ABSENT : Long.toHexString(Double.doubleToRawLongBits(score)));
        remove(averageBlocks); // every task has assembled round r - 1's average
        List<Integer> present = new ArrayList<>();
        double scores = 0;
        for (int t = 0; t < tasks; t++) {
            if (!headers[t].equals(ABSENT)) {
                present.add(t);
                scores += Double.longBitsToDouble(Long.parseUnsignedLong(headers[t], 16));
            }
        }
        if (present.isEmpty()) {
            return null; // no task had minibatches this round: nothing moved
        }
        int n = present.size();
        // Reduce-scatter: this task's slice of every present task's vector, summed in task order. This task's own slice
        // is read from its vector and the blocks of tasks in this executor in place (no copies: for AlexNet's pieces of
        // 64 MiB the copies were most of a round's exchange).
        List<CompletableFuture<Block>> slices = new ArrayList<>();
        for (int t : present) {
            slices.add(t == me ? null : fetch(t, block(r, "part", t, me)));
        }
        float[] slice = null;
        float[] next = null;
        for (int i = 0; i < present.size(); i++) {
            FloatBuffer in;
            Block fetched = null;
            if (present.get(i) == me) {
                int start = from(me, values.length);
                in = FloatBuffer.wrap(values, start, from(me + 1, values.length) - start);
            } else {
                fetched = get(slices.get(i));
                in = fetched.bytes().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
            }
            try {
                if (slice == null) {
                    slice = ownSlices.of(in.remaining());
                    in.get(slice);
                } else {
                    // A bulk copy, then a loop over arrays (which the JIT vectorises): reading the buffer float by
                    // float was most of a round's CPU in local mode.
                    next = next == null ? fetchedSlices.of(slice.length) : next;
                    in.get(next);
                    for (int k = 0; k < slice.length; k++) {
                        slice[k] += next[k];
                    }
                }
            } finally {
                if (fetched != null) {
                    fetched.release().run();
                }
            }
        }
        for (int k = 0; k < slice.length; k++) {
            slice[k] /= n;
        }
        averageBlocks.add(put(block(r, "avg", me, me), "avg", slice, 0, slice.length));
        sync.exchange("");
        remove(parts); // every task has summed its slice
        // All-gather: every task's averaged slice, in slice order.
        List<CompletableFuture<Block>> fetched = new ArrayList<>();
        for (int t = 0; t < tasks; t++) {
            fetched.add(t == me ? null : fetch(t, block(r, "avg", t, t)));
        }
        List<Block> averaged = new ArrayList<>();
        int length = 0;
        for (int t = 0; t < tasks; t++) {
            Block a = t == me ? null : get(fetched.get(t));
            averaged.add(a);
            length += a == null ? slice.length : a.bytes().remaining() / Float.BYTES;
        }
        float[] average = averages.of(length);
        FloatBuffer out = FloatBuffer.wrap(average);
        for (int t = 0; t < tasks; t++) {
            Block a = averaged.get(t);
            if (a == null) {
                out.put(slice);
            } else {
                out.put(a.bytes().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer());
                a.release().run();
            }
        }
        return new Average(average, scores / n);
    }

    /** After the last round: waits until every task has its last average, then removes this task's blocks. */
    @Override
    public void close() throws Exception {
        sync.exchange("");
        abandon();
    }

    /** Removes this task's blocks without waiting for the others: for a task that failed (the stage fails with it). */
    void abandon() {
        remove(parts);
        remove(averageBlocks);
    }

    /** Start of task {@code owner}'s slice of a vector of {@code length}: equal slices, the remainder spread. */
    private int from(int owner, int length) {
        return (int) ((long) length * owner / peers.length);
    }

    private BlockId block(int round, String kind, int from, int owner) {
        return TestBlockId.apply(prefix + "-" + round + "-" + kind + "-" + from + "-" + owner);
    }

    /**
     * Stores {@code values[start..end)} as block {@code id} in the buffer kept for {@code use} and that length: the block
     * holds the buffer itself, which is free again once the block is removed (every reader is done by then).
     */
    private BlockId put(BlockId id, String use, float[] values, int start, int end) {
        ByteBuffer bytes = blockBuffers.computeIfAbsent(use + " " + (end - start),
                k -> ByteBuffer.allocate((end - start) * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN));
        bytes.clear();
        bytes.asFloatBuffer().put(values, start, end - start);
        // Memory first; a block that does not fit spills to disk (encrypted there with spark.io.encryption.enabled).
        if (!blocks.putBytes(id, new ChunkedByteBuffer(bytes), StorageLevel.MEMORY_AND_DISK_SER(), false,
                ClassTag$.MODULE$.Nothing())) {
            throw new IllegalStateException("the block manager did not store " + id + " (" + bytes.capacity() + " bytes)");
        }
        return id;
    }

    private void remove(List<BlockId> ids) {
        ids.forEach(id -> blocks.removeBlock(id, false));
        ids.clear();
    }

    /** A block's bytes and what gives them back to their block manager once read (a read lock, or nothing). */
    private record Block(ByteBuffer bytes, Runnable release) {
    }

    /**
     * Task {@code t}'s block {@code id}: read in place when that task runs in this executor (local mode, or an executor
     * with several task slots), else fetched from its executor's block manager (a copy: the transfer's buffer is released
     * when its callback returns). In place saves the transfer service's round trips, which at {@code local[16]} more than
     * doubled the CPU of a LeNet-5 epoch at batch 16 (2·(W−1) fetches per task and round), and a copy of the block.
     */
    private CompletableFuture<Block> fetch(int t, BlockId id) throws java.io.IOException {
        BlockManagerId peer = peers[t];
        if (peer.executorId().equals(blocks.blockManagerId().executorId())) {
            ManagedBuffer local = blocks.getLocalBlockData(id);
            return CompletableFuture.completedFuture(new Block(local.nioByteBuffer(), local::release));
        }
        CompletableFuture<Block> result = new CompletableFuture<>();
        blocks.blockTransferService().fetchBlocks(peer.host(), peer.port(), peer.executorId(), new String[] {id.name()},
                new BlockFetchingListener() {
                    @Override
                    public void onBlockFetchSuccess(String blockId, ManagedBuffer data) {
                        try {
                            result.complete(new Block(copy(data), () -> { })); // the buffer is released when this returns
                        } catch (Exception e) {
                            result.completeExceptionally(e);
                        }
                    }

                    @Override
                    public void onBlockFetchFailure(String blockId, Throwable e) {
                        result.completeExceptionally(e);
                    }
                }, null);
        return result;
    }

    private static ByteBuffer copy(ManagedBuffer data) throws java.io.IOException {
        ByteBuffer in = data.nioByteBuffer();
        ByteBuffer copy = ByteBuffer.allocate(in.remaining());
        copy.put(in).flip();
        return copy;
    }

    private static Block get(CompletableFuture<Block> f) throws Exception {
        try {
            return f.get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        }
    }
}
