package sparkconv.train;

import java.util.List;

import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.Layer;

import sparkconv.SparkconvException;
import sparkconv.models.Hyper;
import sparkconv.models.ModelZoo;

/**
 * The memory a training JVM needs for a zoo model at a minibatch size, from the network's layer shapes: parameters,
 * gradients and updater state, the activations a training step keeps for backprop, the convolutions' working buffers,
 * the minibatches read ahead, the copies each averaging round makes, and (once per application) the driver's network and
 * its copies for averaging; plus the JVM's own baseline. Every count is in 4-byte floats (ND4J's FP32) and deterministic;
 * the factors below are calibrated against measured peaks (docs/memory.md).
 * <p>
 * Heap and off-heap are separate because they are sized by separate settings: the heap by {@code -Xmx} /
 * {@code spark.executor.memory}, everything resident beyond it (ND4J's buffers and workspaces, oneDNN, the JVM's own
 * native memory) by {@code spark.executor.memoryOverhead} and {@code -Dorg.bytedeco.javacpp.maxphysicalbytes}.
 */
public final class WorkerMemory {
    /**
     * Measured resident memory of a worker's training step per float of {@link Shape#stepPerExample()}, fitted to the
     * measured peaks in docs/memory.md with glibc's mmap threshold fixed (as every sparkconv JVM runs): below 1 because
     * oneDNN's convolutions do not allocate the im2col-sized working buffer the count charges for every example.
     */
    static final double STEP_FACTOR = 0.75;
    /**
     * Off-heap copies of parameters and updater state the driver holds at its peak (its network with gradients, the
     * evaluation networks): fitted to alexnet at batch 32 with 1 and 2 workers once every round ran in a barrier stage
     * and its average reached the driver inside the JVM (3.2 and 3.6 copies; docs/memory.md, "Every model's rounds in
     * one job").
     */
    static final double DRIVER_COPIES = 3.4;
    /**
     * Heap copies the driver holds (the evaluation network's broadcast, a checkpoint's or model's serialised bytes): the
     * live heap sampled after full collections at alexnet's peak held 0.5 (P + U) beyond the workers' terms; a
     * checkpoint's bytes are a whole copy while they are written, so one is counted.
     */
    static final double DRIVER_HEAP_COPIES = 1.0;
    /** Heap copies a worker holds during an exchange, of a piece ({@link Rounds#EXCHANGE_PIECE_BYTES}) at most. */
    static final int EXCHANGE_HEAP_PIECES = 4;
    /** Resident memory of a training JVM beyond its heap before any model (JVM, Spark, libnd4j and oneDNN code; measured). */
    static final long BASE_OFF_HEAP = 192L << 20;
    /** Live heap of a training JVM (Spark driver or executor) before any model (measured: 40-80 MiB). */
    static final long BASE_HEAP = 80L << 20;
    /** The heap a JVM is given per byte of live heap (the collector needs room to work). */
    static final double HEAP_HEADROOM = 1.5;

    private WorkerMemory() {
    }

    /** Counts per network (floats), from the layer shapes. */
    public record Shape(String model, String input, int classes, long parameters, long updaterState, long inputPerExample,
                        long activationsPerExample, long cachedPerExample, long largestActivationPerExample,
                        long workingPerExample) {
        /** Floats a training step keeps per example: activations, cached pre-activations, 2 gradient buffers, working buffer. */
        public long stepPerExample() {
            return inputPerExample + activationsPerExample + cachedPerExample + 2 * largestActivationPerExample + workingPerExample;
        }
    }

    /**
     * What one training JVM needs, in bytes: {@code workers} workers (task slots) and, if {@code driver}, the driver's
     * share (local mode: driver and workers are one JVM).
     */
    public record Need(Shape shape, int batch, int workers, String updater, boolean driver, long workerNetwork,
                       long workerStep, long workerData, long workerExchange, long driverOffHeap,
                       long baseOffHeap, long liveHeap, long heap) {
        /** ND4J's off-heap bytes: the workers' networks, steps, data and copies, and the driver's copies. */
        public long nd4j() {
            return (long) workers * (workerNetwork + workerStep + workerData + workerExchange) + driverOffHeap;
        }

        /** Everything resident beyond the heap. */
        public long offHeap() {
            return nd4j() + baseOffHeap;
        }

        public long total() {
            return heap + offHeap();
        }
    }

    /** The counts for a zoo model (layer stacks; segmentation graphs are not modelled). */
    public static Shape shape(String model, ModelZoo.Input input, int classes, String updater) {
        if (ModelZoo.isGraph(model)) {
            throw new SparkconvException("memory of segmentation graphs (" + model + ") is not modelled");
        }
        MultiLayerConfiguration conf = ModelZoo.build(model, input, classes, new Hyper(updater, 0.01, 0.9, 0, 1));
        InputType in = input.inputType();
        List<InputType> types = conf.getLayerActivationTypes(in);
        long params = 0;
        long state = 0;
        long activations = 0;
        long cached = 0;
        long largest = in.arrayElementsPerExample();
        long working = 0;
        InputType layerIn = in;
        for (int i = 0; i < conf.getConfs().size(); i++) {
            NeuralNetConfiguration layerConf = conf.getConf(i);
            Layer layer = layerConf.getLayer();
            long p = layer.initializer().numParams(layerConf);
            // batch normalisation's running mean and variance are parameters without an updater
            long trainable = layer instanceof BatchNormalization bn ? p - 2 * bn.getNOut() : p;
            params += p;
            if (trainable > 0) {
                state += layer.getUpdaterByParam(layer.initializer().paramKeys(layer).get(0)).stateSize(trainable);
            }
            long out = types.get(i).arrayElementsPerExample();
            activations += out;
            largest = Math.max(largest, out);
            if (layer instanceof ConvolutionLayer c && layerIn instanceof InputType.InputTypeConvolutional ci) {
                cached += out; // CacheMode.DEVICE keeps each convolution's pre-activation for backprop
                long[] k = {c.getKernelSize()[0], c.getKernelSize()[1]};
                InputType.InputTypeConvolutional co = (InputType.InputTypeConvolutional) types.get(i);
                working = Math.max(working, k[0] * k[1] * ci.getChannels() * co.getHeight() * co.getWidth());
            }
            layerIn = types.get(i);
        }
        return new Shape(model, input.toString(), classes, params, state, in.arrayElementsPerExample(), activations, cached,
                largest, working);
    }

    /**
     * One JVM's need: {@code workers} training workers of minibatch {@code batch} reading {@code prefetch} minibatches
     * ahead, plus the driver's share if it runs in the same JVM.
     */
    public static Need need(Shape s, String updater, int batch, int workers, int prefetch, boolean driver) {
        if (batch < 1 || workers < (driver ? 0 : 1)) {
            throw new SparkconvException("batch must be at least 1 and workers " + (driver ? 0 : 1) + ", got " + batch + " and " + workers);
        }
        long f = Float.BYTES;
        long p = s.parameters();
        long u = s.updaterState();
        long network = f * (2 * p + u); // parameters, their gradients, updater state
        long step = (long) Math.ceil(STEP_FACTOR * f * batch * s.stepPerExample());
        long data = f * (prefetch + 2L) * batch * (s.inputPerExample() + s.classes()); // read ahead, in use, being read
        // an executor's copy of the round's start (its broadcast, deserialised); in local mode the tasks read the
        // driver's own start and hand their average back inside the JVM (RoundStart.Local, KeptNetworkWorker.InThisJvm)
        long exchange = driver ? 0 : f * (p + u);
        long driverOff = driver ? (long) Math.ceil(DRIVER_COPIES * f * (p + u)) : 0;
        // on the heap: each worker's exchange, a few pieces at most; on an executor the broadcast's blocks and the first
        // task's copy of the stage's last average as Spark serialises it (2); on the driver its serialised copies
        long pieces = EXCHANGE_HEAP_PIECES * Math.min(f * (p + u), Rounds.EXCHANGE_PIECE_BYTES);
        long live = BASE_HEAP + workers * pieces
                + (long) Math.ceil((driver ? DRIVER_HEAP_COPIES : 3) * f * (p + u));
        long heap = (long) Math.ceil(HEAP_HEADROOM * live);
        return new Need(s, batch, workers, updater, driver, network, step, data, exchange, driverOff, BASE_OFF_HEAP,
                live, heap);
    }
}
