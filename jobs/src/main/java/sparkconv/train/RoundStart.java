package sparkconv.train;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.spark.broadcast.Broadcast;
import org.deeplearning4j.spark.api.worker.NetBroadcastTuple;

/**
 * How a round's tasks get its start ({@link DriverNetwork#roundStart}): broadcast to executors, or in local mode, where
 * the tasks run in the driver's JVM, the driver's own tuple. A broadcast there gave the tasks the driver's very object
 * too, but first serialised the parameters and updater state into blocks that no executor fetches, held on the heap
 * for the whole round (476 MiB for AlexNet with Nesterov). The driver's network does not change while a round's job
 * runs: it takes the average only once the job is done.
 */
sealed interface RoundStart extends java.io.Serializable permits RoundStart.Broadcasted, RoundStart.Local {
    NetBroadcastTuple get();

    /** The round's job is done: its start is dropped (a broadcast's blocks and values everywhere). */
    void destroy();

    record Broadcasted(Broadcast<NetBroadcastTuple> broadcast) implements RoundStart {
        @Override
        public NetBroadcastTuple get() {
            return broadcast.getValue();
        }

        @Override
        public void destroy() {
            broadcast.destroy();
        }
    }

    /** The driver's tuple, found by its id in this JVM (a task's closure is serialised even in local mode). */
    record Local(long id) implements RoundStart {
        private static final Map<Long, NetBroadcastTuple> STARTS = new ConcurrentHashMap<>();
        private static final AtomicLong IDS = new AtomicLong();

        static Local of(NetBroadcastTuple start) {
            Local local = new Local(IDS.incrementAndGet());
            STARTS.put(local.id, start);
            return local;
        }

        @Override
        public NetBroadcastTuple get() {
            NetBroadcastTuple start = STARTS.get(id);
            if (start == null) {
                throw new IllegalStateException("round start " + id + " was used after its job ended");
            }
            return start;
        }

        @Override
        public void destroy() {
            STARTS.remove(id);
        }
    }
}
