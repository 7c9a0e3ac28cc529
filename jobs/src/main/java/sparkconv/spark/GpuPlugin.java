package sparkconv.spark;

import org.apache.spark.api.plugin.DriverPlugin;
import org.apache.spark.api.plugin.ExecutorPlugin;
import org.apache.spark.api.plugin.SparkPlugin;

/**
 * {@code spark.plugins=sparkconv.spark.GpuPlugin}: before every task, in the task's own thread, pins ND4J to the
 * GPU Spark assigned the task ({@link GpuAffinity}). Set by {@code deploy/gpu.properties}; harmless without GPUs.
 */
public final class GpuPlugin implements SparkPlugin {
    @Override
    public DriverPlugin driverPlugin() {
        return null;
    }

    @Override
    public ExecutorPlugin executorPlugin() {
        return new ExecutorPlugin() {
            @Override
            public void onTaskStart() {
                GpuAffinity.pinCurrentTask();
            }
        };
    }
}
