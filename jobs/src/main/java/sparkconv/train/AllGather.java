package sparkconv.train;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.spark.BarrierTaskContext;
import org.apache.spark.RequestMethod$;
import org.apache.spark.RequestToSync;
import org.apache.spark.SparkEnv;
import org.apache.spark.rpc.RpcEndpointRef;
import org.apache.spark.rpc.RpcTimeout;
import org.apache.spark.util.RpcUtils;

import scala.concurrent.Await;
import scala.concurrent.Future;
import scala.concurrent.duration.FiniteDuration;
import scala.reflect.ClassTag;

/**
 * {@code BarrierTaskContext.allGather} for a barrier task that calls it after every averaging round: the same request
 * to the driver's barrier coordinator, with the same sync semantics and kill checks, but woken as soon as the reply
 * arrives. Spark 3.5's own polls its reply with {@code Thread.sleep(1000)}, so each call took up to a second (a
 * LeNet-5 round fits in ~0.3 s). The request ({@code RequestToSync}) is Spark-internal: a Spark upgrade that changes it
 * fails to compile here, and the averaging tests run every call through it. A task uses either this or its
 * context's {@code barrier}/{@code allGather}, never both (each counts the calls it made).
 */
final class AllGather {
    private static final FiniteDuration POLL = FiniteDuration.apply(100, TimeUnit.MILLISECONDS);
    /** spark.barrier.sync.timeout fails a sync whose tasks do not all arrive; this is only the RPC's own. */
    private static final RpcTimeout NO_RPC_TIMEOUT = new RpcTimeout(FiniteDuration.apply(365, TimeUnit.DAYS), "barrierTimeout");

    private final BarrierTaskContext task;
    private final RpcEndpointRef coordinator;
    private int epoch;

    /** For the barrier task running on this thread. */
    AllGather() {
        this.task = BarrierTaskContext.get();
        SparkEnv env = SparkEnv.get();
        this.coordinator = RpcUtils.makeDriverRef("barrierSync", env.conf(), env.rpcEnv());
    }

    /** Every task's message, by partition, once every task of the stage has sent its own. */
    String[] exchange(String message) throws Exception {
        Future<String[]> reply = coordinator.ask(RequestToSync.apply(task.numPartitions(), task.stageId(),
                        task.stageAttemptNumber(), task.taskAttemptId(), epoch, task.partitionId(), message,
                        RequestMethod$.MODULE$.ALL_GATHER()), NO_RPC_TIMEOUT, ClassTag.apply(String[].class));
        while (true) {
            try {
                String[] all = Await.result(reply, POLL);
                epoch++;
                return all;
            } catch (Exception e) {
                if (!(e instanceof TimeoutException)) {
                    throw e;
                }
                // A killed stage's coordinator drops pending requests without a reply: stop when this task is killed.
                task.killTaskIfInterrupted();
            }
        }
    }
}
