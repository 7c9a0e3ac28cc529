package sparkconv.spark;

import java.util.Map;
import java.util.OptionalInt;

import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import sparkconv.SparkconvException;

/**
 * Pins ND4J to the GPU Spark's resource scheduler gave the running task, so two executors on one multi-GPU host
 * never share a card. Spark assigns GPU addresses per task ({@code spark.task.resource.gpu.amount}) from what the
 * discovery script ({@code deploy/gpu-discovery.sh}) reported; ND4J's affinity manager binds device memory and
 * kernels per thread, and a Spark task runs in one executor thread, so the pin happens in that thread before the
 * task's code runs ({@link GpuPlugin#onTaskStart}). On the CPU backend there is one "device" and nothing to pin.
 */
public final class GpuAffinity {
    public static final String GPU = "gpu";
    private static final Logger LOG = LoggerFactory.getLogger(GpuAffinity.class);

    private GpuAffinity() {
    }

    /** The ND4J device index for a task's resources: its first GPU address, if it was given one. */
    public static OptionalInt deviceFor(Map<String, ResourceInformation> resources) {
        ResourceInformation gpu = resources == null ? null : resources.get(GPU);
        if (gpu == null || gpu.addresses().length == 0) {
            return OptionalInt.empty();
        }
        String address = gpu.addresses()[0].trim();
        try {
            int index = Integer.parseInt(address);
            if (index < 0) {
                throw new NumberFormatException();
            }
            return OptionalInt.of(index);
        } catch (NumberFormatException e) {
            throw new SparkconvException("GPU address '" + address + "' from Spark's resource scheduler is not a device index "
                    + "(the discovery script must report CUDA ordinals such as \"0\", \"1\")");
        }
    }

    /**
     * Pins the current thread to the task's GPU; returns the device, or empty when there is no task, no GPU
     * assigned, or the backend has fewer devices (the CPU backend has one).
     */
    public static OptionalInt pinCurrentTask() {
        TaskContext task = TaskContext.get();
        if (task == null) {
            return OptionalInt.empty();
        }
        OptionalInt device = deviceFor(scala.collection.JavaConverters.mapAsJavaMap(task.resources()));
        if (device.isEmpty()) {
            return device;
        }
        int devices = Nd4j.getAffinityManager().getNumberOfDevices();
        if (device.getAsInt() >= devices) {
            LOG.warn("task {} was given GPU {} but ND4J's backend sees {} device(s): not pinned (is this the CUDA build?)",
                    task.taskAttemptId(), device.getAsInt(), devices);
            return OptionalInt.empty();
        }
        Nd4j.getAffinityManager().unsafeSetDevice(device.getAsInt());
        LOG.debug("task {} pinned to GPU {}", task.taskAttemptId(), device.getAsInt());
        return device;
    }
}
