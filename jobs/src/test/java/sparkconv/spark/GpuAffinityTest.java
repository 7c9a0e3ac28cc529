package sparkconv.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.resource.ResourceInformation;
import org.junit.jupiter.api.Test;

import sparkconv.LocalSpark;
import sparkconv.SparkconvException;

/** The Spark resource -> ND4J device mapping, on CPU. */
class GpuAffinityTest {
    private static Map<String, ResourceInformation> gpus(String... addresses) {
        return Map.of("gpu", new ResourceInformation("gpu", addresses));
    }

    @Test
    void taskResourcesMapToTheAssignedDevice() {
        assertEquals(OptionalInt.of(1), GpuAffinity.deviceFor(gpus("1")));
        assertEquals(OptionalInt.of(3), GpuAffinity.deviceFor(gpus(" 3 ")));
        assertEquals(OptionalInt.of(0), GpuAffinity.deviceFor(gpus("0", "1")), "a task given two GPUs uses its first");
        assertEquals(OptionalInt.empty(), GpuAffinity.deviceFor(Map.of()));
        assertEquals(OptionalInt.empty(), GpuAffinity.deviceFor(null));
        assertEquals(OptionalInt.empty(), GpuAffinity.deviceFor(Map.of("fpga", new ResourceInformation("fpga", new String[]{"0"}))));
        // two executors on one 2-GPU host: Spark gives each task a different address, so they pin different cards
        assertTrue(GpuAffinity.deviceFor(gpus("0")).getAsInt() != GpuAffinity.deviceFor(gpus("1")).getAsInt());
        SparkconvException e = assertThrows(SparkconvException.class, () -> GpuAffinity.deviceFor(gpus("GPU-8f1e")));
        assertTrue(e.getMessage().contains("GPU-8f1e"), e.getMessage());
        assertThrows(SparkconvException.class, () -> GpuAffinity.deviceFor(gpus("-1")));
    }

    @Test
    void withoutGpuResourcesNothingIsPinned() {
        assertEquals(OptionalInt.empty(), GpuAffinity.pinCurrentTask(), "driver thread: no task");
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(LocalSpark.get().sparkContext());
        List<Integer> pinned = jsc.parallelize(List.of(1, 2, 3, 4), 2)
                .map(i -> GpuAffinity.pinCurrentTask().orElse(-1)).collect();
        assertEquals(List.of(-1, -1, -1, -1), pinned, "local tasks carry no GPU resources");
        new GpuPlugin().executorPlugin().onTaskStart();
    }

    @Test
    void discoveryScriptReportsSparksResourceJson() throws Exception {
        Path script = Path.of("../deploy/gpu-discovery.sh").toAbsolutePath().normalize();
        assertTrue(Files.isExecutable(script), script + " is executable");
        // With a stand-in nvidia-smi that lists two GPUs, the script prints Spark's ResourceInformation JSON.
        Path bin = Files.createTempDirectory("fake-nvidia");
        Path smi = bin.resolve("nvidia-smi");
        Files.writeString(smi, "#!/bin/sh\nprintf '0\\n1\\n'\n");
        smi.toFile().setExecutable(true);
        ProcessBuilder pb = new ProcessBuilder("bash", script.toString());
        pb.environment().put("PATH", bin + ":" + System.getenv("PATH"));
        Process fake = pb.start();
        String out = new String(fake.getInputStream().readAllBytes()).trim();
        assertEquals(0, fake.waitFor());
        assertEquals("{\"name\": \"gpu\", \"addresses\": [\"0\", \"1\"]}", out);
        // CUDA_VISIBLE_DEVICES=2,3 leaves two cards, renumbered 0 and 1 inside the process
        pb.environment().put("CUDA_VISIBLE_DEVICES", "2,3");
        Process restricted = pb.start();
        assertEquals("{\"name\": \"gpu\", \"addresses\": [\"0\", \"1\"]}", new String(restricted.getInputStream().readAllBytes()).trim());
        assertEquals(0, restricted.waitFor());
    }
}
