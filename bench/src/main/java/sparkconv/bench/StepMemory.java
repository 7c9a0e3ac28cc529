package sparkconv.bench;

import org.bytedeco.javacpp.Pointer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.memory.abstracts.Nd4jWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

import sparkconv.models.Hyper;
import sparkconv.models.ModelZoo;
import sparkconv.train.WorkerMemory;

/**
 * What a training step of a zoo model holds off the heap, workspace by workspace (issue 28: {@code describe}'s training
 * step term against what DL4J allocates): fits a few minibatches of random data on this thread, then lists the thread's
 * workspaces (their block, their spilled and pinned allocations) beside {@link WorkerMemory}'s per-term counts, and
 * the process's peak resident bytes. One JVM, no Spark: the step alone.
 *
 * <p>Usage: {@code StepMemory MODEL BATCH [STEPS]}.
 */
public final class StepMemory {

    public static void main(String[] args) {
        String model = args[0];
        int batch = Integer.parseInt(args[1]);
        int steps = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        ModelZoo.Input input = ModelZoo.defaultInput(model);
        int classes = ModelZoo.defaultClasses(model);
        String updater = java.util.Objects.requireNonNullElse(sparkconv.models.TrainingDefaults.of(model).updater(), "nesterovs");
        MultiLayerNetwork net = new MultiLayerNetwork(ModelZoo.build(model, input, classes, new Hyper(updater, 0.001, 0.9, 0, 42)));
        net.init();
        INDArray x = Nd4j.rand(DataType.FLOAT, batch, input.channels(), input.height(), input.width());
        INDArray y = Nd4j.zeros(DataType.FLOAT, batch, classes);
        for (int i = 0; i < batch; i++) {
            y.putScalar(i, i % classes, 1f);
        }
        DataSet ds = new DataSet(x, y);
        long peakResident = 0;
        for (int i = 0; i < steps; i++) {
            net.fit(ds);
            peakResident = Math.max(peakResident, Pointer.physicalBytes());
        }
        WorkerMemory.Shape s = WorkerMemory.shape(model, input, classes, updater);
        double mib = 1 << 20;
        long f = Float.BYTES;
        System.out.printf("%s batch %d, %d steps on one thread (%s)%n", model, batch, steps, updater);
        System.out.printf("  predicted (MiB): kept for backprop %.1f (WS_ALL_LAYERS_ACT), gradients %.1f (WS_LAYER_ACT_1) and %.1f"
                        + " (WS_LAYER_ACT_2), working %.1f (WS_LAYER_WORKING_MEM); step %.1f; network (2P + U) %.1f%n",
                s.keptForBackprop(batch) / mib, s.evenGradients(batch) / mib, s.oddGradients(batch) / mib, s.working(batch) / mib,
                s.step(batch) / mib, f * (2 * s.parameters() + s.updaterState()) / mib);
        long workspaces = 0;
        for (MemoryWorkspace w : Nd4j.getWorkspaceManager().getAllWorkspacesForCurrentThread()) {
            Nd4jWorkspace n = (Nd4jWorkspace) w;
            long size = n.getCurrentSize() + n.getSpilledSize() + n.getPinnedSize();
            workspaces += size;
            System.out.printf("  workspace %-24s block %8.1f MiB, spilled %8.1f, pinned %8.1f, max cycle %8.1f%n", w.getId(),
                    n.getCurrentSize() / mib, n.getSpilledSize() / mib, n.getPinnedSize() / mib, w.getMaxCycleAllocations() / mib);
        }
        // JavaCPP's totalBytes stays 0 on CPU (libnd4j allocates ND4J's memory itself): resident memory is the measure
        System.out.printf("  workspaces %.1f MiB; peak physicalBytes %.1f MiB, heap committed %.1f MiB%n", workspaces / mib,
                peakResident / mib, Runtime.getRuntime().totalMemory() / mib);
    }
}
