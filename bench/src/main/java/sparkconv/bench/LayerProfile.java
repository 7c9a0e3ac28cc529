package sparkconv.bench;

import java.util.Arrays;
import java.util.Locale;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.layers.IOutputLayer;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.layers.LayerHelper;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.api.memory.enums.AllocationPolicy;
import org.nd4j.linalg.api.memory.enums.LearningPolicy;
import org.nd4j.linalg.api.memory.enums.ResetPolicy;
import org.nd4j.linalg.api.memory.enums.SpillPolicy;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import sparkconv.models.Hyper;
import sparkconv.models.ModelSummary;
import sparkconv.models.ModelZoo;

/**
 * Where a training step of a zoo model spends its time, layer by layer (issue 28: "a per-layer profile says why" a
 * model is far from the arithmetic peak). For each layer: the forward pass and the backward pass (input and weight
 * gradients together: DL4J's oneDNN convolution helper computes both in one {@code conv2d_bp}), median of the timed
 * repetitions, the layer's FLOP from {@code describe}'s multiply-adds, the GFLOP/s and their fraction of the gemm peak
 * measured in the same JVM, and the helper that ran it ({@code MKLDNNConvHelper} etc.; "DL4J" when none: DL4J's own
 * Java-side implementation; "sparkconv" for a sparkconv layer or helper, such as the fused LRN or the Java batch normalisation). The last lines compare the layers' sum with a whole {@code fit} step (the difference is the
 * updater, the loss and DL4J's workspaces). Random inputs of the model's designed shape; one OpenMP team of
 * OMP_NUM_THREADS. The peak is ND4J's (OpenBLAS) gemm: oneDNN's own kernels can pass it (AVX-512 where the CPU has it),
 * and {@code describe}'s count includes a padded convolution's multiplications by the padding, so a fraction above 1
 * says "faster than the gemm", not more than the machine.
 *
 * <p>Usage: {@code LayerProfile MODEL [BATCH] [REPEATS]}.
 */
public final class LayerProfile {

    public static void main(String[] args) {
        String model = args[0];
        int batch = args.length > 1 ? Integer.parseInt(args[1]) : 32;
        int repeats = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        String threads = System.getenv().getOrDefault("OMP_NUM_THREADS", "?");
        ModelZoo.Input input = ModelZoo.defaultInput(model);
        int classes = ModelZoo.defaultClasses(model);
        MultiLayerNetwork net = new MultiLayerNetwork(ModelZoo.build(model, input, classes,
                new Hyper("nesterovs", 0.001, 0.9, 0, 42)));
        net.init();
        net.initGradientsView(); // the layers' gradient arrays are views of one flat array fit would set up
        ModelSummary summary = ModelZoo.describe(model, input, classes);
        INDArray x = Nd4j.rand(DataType.FLOAT, batch, input.channels(), input.height(), input.width());
        INDArray y = Nd4j.zeros(DataType.FLOAT, batch, classes);
        for (int i = 0; i < batch; i++) {
            y.putScalar(i, i % classes, 1f);
        }
        DataSet ds = new DataSet(x, y);
        double peak = GemmPeak.best(2048); // the size where ND4J's gemm peaks here (bench/run train's gemm table)

        int n = net.getnLayers();
        long[][] forward = new long[n][repeats];
        long[][] backward = new long[n][repeats];
        long[] step = new long[repeats];
        // One workspace for every array of a repetition, reset at its end, as fit's workspaces are: without one, each op's
        // output is fresh memory (ND4J frees arrays outside workspaces only when the collector finds them), and the page
        // faults of touching it made the memory-bound layers (batch norm, activations) several times slower than in fit.
        WorkspaceConfiguration wsConf = WorkspaceConfiguration.builder().policyAllocation(AllocationPolicy.OVERALLOCATE)
                .policyLearning(LearningPolicy.FIRST_LOOP).policyReset(ResetPolicy.BLOCK_LEFT).policySpill(SpillPolicy.REALLOCATE)
                .build();
        LayerWorkspaceMgr mgr = LayerWorkspaceMgr.builder().defaultWorkspace("SPARKCONV_LAYER_PROFILE", wsConf).build();
        for (int r = -2; r < repeats; r++) { // two warm-ups: oneDNN builds its primitives on first use
            try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(wsConf, "SPARKCONV_LAYER_PROFILE")) {
                INDArray a = x;
                for (int i = 0; i < n; i++) {
                    InputPreProcessor pre = net.getLayerWiseConfigurations().getInputPreProcess(i);
                    if (pre != null) {
                        a = pre.preProcess(a, batch, mgr);
                    }
                    long t0 = System.nanoTime();
                    a = net.getLayer(i).activate(a, true, mgr);
                    Nd4j.getExecutioner().commit();
                    if (r >= 0) {
                        forward[i][r] = System.nanoTime() - t0;
                    }
                }
                ((IOutputLayer) net.getOutputLayer()).setLabels(y);
                INDArray epsilon = null;
                for (int i = n - 1; i >= 0; i--) {
                    long t0 = System.nanoTime();
                    epsilon = net.getLayer(i).backpropGradient(epsilon, mgr).getSecond();
                    Nd4j.getExecutioner().commit();
                    if (r >= 0) {
                        backward[i][r] = System.nanoTime() - t0;
                    }
                    InputPreProcessor pre = net.getLayerWiseConfigurations().getInputPreProcess(i);
                    if (pre != null && epsilon != null) {
                        epsilon = pre.backprop(epsilon, batch, mgr);
                    }
                }
            }
            long t0 = System.nanoTime();
            net.fit(ds);
            if (r >= 0) {
                step[r] = System.nanoTime() - t0;
            }
        }

        System.out.printf(Locale.ROOT, "%s, batch %d, OMP_NUM_THREADS=%s, median of %d repetitions; gemm peak %.1f GFLOP/s%n",
                model, batch, threads, repeats, peak);
        System.out.println("| layer | kind | output | helper | forward ms | GFLOP/s | of peak | backward ms | GFLOP/s | of peak | share of step |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|---|");
        double layersMs = 0;
        double stepMs = median(step) / 1e6;
        for (int i = 0; i < n; i++) {
            ModelSummary.Row row = summary.rows().get(i);
            Layer layer = net.getLayer(i);
            LayerHelper helper = layer.getHelper();
            String helperName = helper != null && !helper.getClass().getName().startsWith("sparkconv.") ? helper.getClass().getSimpleName()
                    : helper != null || layer.getClass().getName().startsWith("sparkconv.") ? "sparkconv" : "DL4J";
            double f = median(forward[i]) / 1e6;
            double b = median(backward[i]) / 1e6;
            layersMs += f + b;
            // FLOP: 2 per multiply-add; the backward pass is the input and the weight gradients (the first layer's
            // input gradient is not needed but oneDNN's conv2d_bp computes it: counted as DL4J runs it, twice)
            double forwardFlop = 2.0 * row.macs() * batch;
            double backwardFlop = 2 * forwardFlop;
            System.out.printf(Locale.ROOT, "| %d | %s | %s | %s | %.2f | %s | %s | %.2f | %s | %s | %.0f%% |%n", i, row.kind(),
                    row.outputShape(), helperName, f, rate(forwardFlop, f), ofPeak(forwardFlop, f, peak), b,
                    rate(backwardFlop, b), ofPeak(backwardFlop, b, peak), 100 * (f + b) / stepMs);
        }
        System.out.printf(Locale.ROOT, "layers' sum %.1f ms; a whole fit step %.1f ms (%.0f%% in the layers; the rest: loss, "
                + "updater, workspaces); step %.1f GFLOP/s, %.0f%% of the gemm peak%n", layersMs, stepMs,
                100 * layersMs / stepMs, summary.trainingFlops() * batch / stepMs / 1e6,
                100 * summary.trainingFlops() * batch / stepMs / 1e6 / peak);
    }

    private static double median(long[] xs) {
        long[] s = xs.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2.0;
    }

    private static String rate(double flop, double ms) {
        return flop == 0 ? "" : String.format(Locale.ROOT, "%.1f", flop / ms / 1e6);
    }

    private static String ofPeak(double flop, double ms, double peak) {
        return flop == 0 ? "" : String.format(Locale.ROOT, "%.0f%%", 100 * flop / ms / 1e6 / peak);
    }
}
