package sparkconv.train;

import java.util.List;

import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.preprocessor.CnnToFeedForwardPreProcessor;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.Layer;

import sparkconv.SparkconvException;
import sparkconv.models.Hyper;
import sparkconv.models.ModelZoo;
import sparkconv.models.VectorisedReLU;

/**
 * The memory a training JVM needs for a zoo model at a minibatch size, from the network's layer shapes: parameters,
 * gradients and updater state, DL4J's workspaces of a training step (counted from what each layer puts in them), the
 * minibatches read ahead, the copies each averaging round makes, and (once per application) the driver's network and
 * its copies for averaging; plus the JVM's own baseline. Every count is in 4-byte floats (ND4J's FP32) and deterministic;
 * the driver's copies and the baselines are calibrated against measured peaks (docs/memory.md).
 * <p>
 * Heap and off-heap are separate because they are sized by separate settings: the heap by {@code -Xmx} /
 * {@code spark.executor.memory}, everything resident beyond it (ND4J's buffers and workspaces, oneDNN, the JVM's own
 * native memory) by {@code spark.executor.memoryOverhead} and {@code -Dorg.bytedeco.javacpp.maxphysicalbytes}.
 */
public final class WorkerMemory {
    /**
     * DL4J's workspaces over-allocate what they learn a cycle needs: {@code MultiLayerNetwork}'s activations workspace
     * (WS_ALL_LAYERS_ACT) by 5%, its two gradient workspaces (WS_LAYER_ACT_1/2) and its working memory
     * (WS_LAYER_WORKING_MEM) by 2% (DL4J 1.0.0-M2.1's workspace configurations; bench {@code StepMemory} lists the blocks).
     */
    static final double ACTIVATIONS_OVERALLOCATION = 0.05;
    static final double LAYER_OVERALLOCATION = 0.02;
    /**
     * Off-heap copies of parameters and updater state the driver holds at its peak (its network with gradients, the
     * evaluation networks): fitted to alexnet at batch 32 with 1 and 2 workers once the training step was counted from
     * DL4J's workspaces (2.84 and 2.90 copies; docs/memory.md, session 12).
     */
    static final double DRIVER_COPIES = 2.9;
    /**
     * Heap copies the driver holds (the evaluation network's broadcast, a checkpoint's or model's serialised bytes): the
     * live heap sampled after full collections at alexnet's peak held 0.5 (P + U) beyond the workers' terms; a
     * checkpoint's bytes are a whole copy while they are written, so one is counted.
     */
    static final double DRIVER_HEAP_COPIES = 1.0;
    /** Heap copies a worker holds during an exchange, of a piece ({@link Rounds#EXCHANGE_PIECE_BYTES}) at most. */
    static final int EXCHANGE_HEAP_PIECES = 4;
    /**
     * Resident memory of a training JVM beyond its heap before any model (JVM, Spark, libnd4j and oneDNN code): 192 MiB
     * measured with one LeNet-5 worker, less {@link #WORKER_OFF_HEAP}.
     */
    static final long BASE_OFF_HEAP = 117L << 20;
    /**
     * Resident memory each worker adds beyond the counted terms (its threads' native memory: malloc arenas, oneDNN's
     * reorder and scratch buffers): fitted, the second worker's peak beyond its counted terms was 60-100 MiB for
     * candle-cnn-20, candle-cnn-60 and alexnet (docs/memory.md, session 12).
     */
    static final long WORKER_OFF_HEAP = 75L << 20;
    /** Live heap of a training JVM (Spark driver or executor) before any model (measured: 40-80 MiB). */
    static final long BASE_HEAP = 80L << 20;
    /** The heap a JVM is given per byte of live heap (the collector needs room to work). */
    static final double HEAP_HEADROOM = 1.5;

    private WorkerMemory() {
    }

    /**
     * Counts per network (floats), from the layer shapes. A training step's memory is DL4J's four workspaces, each sized
     * by what one cycle of it held: the activations kept for backprop (every layer's output and {@code cachedPerExample}),
     * the two gradient buffers the backward pass alternates through (the gradient with respect to an even-numbered
     * layer's input goes to one, an odd-numbered layer's to the other: each holds its layers' largest input), and one
     * layer's working memory ({@code workingPerExample}: the backward pass of an activation function that is not in
     * place, a dense layer's recomputed pre-activation, a dilated convolution's matrices on DL4J's own path).
     */
    public record Shape(String model, String input, int classes, long parameters, long updaterState, long inputPerExample,
                        long activationsPerExample, long cachedPerExample, long evenGradientPerExample,
                        long oddGradientPerExample, long workingPerExample) {
        /** Bytes of the activations workspace at minibatch {@code batch}. */
        public long keptForBackprop(int batch) {
            return bytes(1 + ACTIVATIONS_OVERALLOCATION, batch, activationsPerExample + cachedPerExample);
        }

        /** Bytes of the two gradient workspaces (WS_LAYER_ACT_1 for even layers, WS_LAYER_ACT_2 for odd ones). */
        public long evenGradients(int batch) {
            return bytes(1 + LAYER_OVERALLOCATION, batch, evenGradientPerExample);
        }

        public long oddGradients(int batch) {
            return bytes(1 + LAYER_OVERALLOCATION, batch, oddGradientPerExample);
        }

        public long gradientBuffers(int batch) {
            return evenGradients(batch) + oddGradients(batch);
        }

        /** Bytes of the working-memory workspace. */
        public long working(int batch) {
            return bytes(1 + LAYER_OVERALLOCATION, batch, workingPerExample);
        }

        /** Bytes a training step holds: the four workspaces. */
        public long step(int batch) {
            return keptForBackprop(batch) + gradientBuffers(batch) + working(batch);
        }

        private static long bytes(double factor, int batch, long floatsPerExample) {
            return (long) Math.ceil(factor * Float.BYTES * batch * floatsPerExample);
        }
    }

    /**
     * What one training JVM needs, in bytes: {@code workers} workers (task slots), each fitting {@code minibatch}
     * examples a step from shards of {@code batch}, and, if {@code driver}, the driver's share (local mode: driver and
     * workers are one JVM).
     */
    public record Need(Shape shape, int batch, int minibatch, int workers, String updater, boolean driver, long workerNetwork,
                       long workerStep, long workerData, long workerExchange, long workerEvaluation, long driverOffHeap,
                       long baseOffHeap, long liveHeap, long heap) {
        /** ND4J's off-heap bytes: the workers' networks, steps, data, copies and evaluations, and the driver's copies. */
        public long nd4j() {
            return (long) workers * (workerNetwork + workerStep + workerData + workerExchange + workerEvaluation) + driverOffHeap;
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
        long[] gradients = new long[2]; // the largest input of the even layers, of the odd ones
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
            if (conf.getInputPreProcess(i) instanceof CnnToFeedForwardPreProcessor) {
                cached += layerIn.arrayElementsPerExample(); // the flattening preprocessor's copy of its input
            }
            gradients[i % 2] = Math.max(gradients[i % 2], layerIn.arrayElementsPerExample());
            long out = types.get(i).arrayElementsPerExample();
            activations += out;
            long layerWorking = 0;
            boolean dense = layer instanceof DenseLayer || layer instanceof BaseOutputLayer;
            if ((dense || layer instanceof ConvolutionLayer) && !inPlace(((BaseLayer) layer).getActivationFn())) {
                layerWorking += out; // DL4J's activation functions write their backward pass to a new array (ReLU's in.ulike())
            }
            if (dense) {
                layerWorking += 2 * out; // a dense layer's backward pass recomputes its pre-activation and copies its gradient
            }
            if (layer instanceof ConvolutionLayer c && layerIn instanceof InputType.InputTypeConvolutional ci) {
                cached += out; // CacheMode.DEVICE keeps each convolution's pre-activation for backprop
                if (c.getDilation()[0] != 1 || c.getDilation()[1] != 1) {
                    // DL4J M2.1 runs a dilated convolution on its own path (oneDNN cannot build it; InputConvolutionLayer):
                    // forward keeps its im2col buffer for backprop, which adds the buffer's gradient to the working memory
                    InputType.InputTypeConvolutional co = (InputType.InputTypeConvolutional) types.get(i);
                    long im2col = (long) c.getKernelSize()[0] * c.getKernelSize()[1] * ci.getChannels() * co.getHeight() * co.getWidth();
                    cached += im2col;
                    layerWorking += out + 2 * im2col; // the output gradient as a matrix, the im2col buffer's gradient
                }
            }
            working = Math.max(working, layerWorking);
            layerIn = types.get(i);
        }
        return new Shape(model, input.toString(), classes, params, state, in.arrayElementsPerExample(), activations, cached,
                gradients[0], gradients[1], working);
    }

    /** Activation functions whose backward pass writes into its input instead of a new array. */
    private static boolean inPlace(IActivation activation) {
        return activation instanceof ActivationIdentity || activation instanceof VectorisedReLU;
    }

    /**
     * One JVM's need: {@code workers} training workers on shards of {@code batch} examples reading {@code prefetch}
     * minibatches ahead, plus the driver's share if it runs in the same JVM. A worker's step fits the piece of a shard
     * {@code policy} gives it ({@code sync} cuts each shard among the round's workers, taken here as these
     * {@code workers}: on a cluster the round has at least as many, so its pieces are at most this large).
     */
    public static Need need(Shape s, String updater, int batch, AveragingPolicy policy, int workers, int prefetch, boolean driver) {
        if (batch < 1 || workers < (driver ? 0 : 1)) {
            throw new SparkconvException("batch must be at least 1 and workers " + (driver ? 0 : 1) + ", got " + batch + " and " + workers);
        }
        int cut = policy.pieces(Math.max(1, workers), batch);
        int minibatch = (batch + cut - 1) / cut;
        long f = Float.BYTES;
        long p = s.parameters();
        long u = s.updaterState();
        long network = f * (2 * p + u); // parameters, their gradients, updater state
        long step = s.step(minibatch);
        long data = f * (prefetch + 2L) * batch * (s.inputPerExample() + s.classes()); // read ahead, in use, being read
        // an executor's copy of the round's start (its broadcast, deserialised); in local mode the tasks read the
        // driver's own start and hand their average back inside the JVM (RoundStart.Local, KeptNetworkWorker.InThisJvm)
        long exchange = driver ? 0 : f * (p + u);
        long driverOff = driver ? (long) Math.ceil(DRIVER_COPIES * f * (p + u)) : 0;
        // evaluating a worker's shards holds the largest layer input at the shards' batch (the workspaces measured beyond
        // the training steps: alexnet 36 MiB against 36, candle-cnn-60 121-135 against 109, candle-cnn-20 28-63 against 26-52)
        long evaluation = Shape.bytes(1 + LAYER_OVERALLOCATION, batch, Math.max(s.evenGradientPerExample(), s.oddGradientPerExample()));
        // on the heap: each worker's exchange, a few pieces at most; on an executor the broadcast's blocks and the first
        // task's copy of the stage's last average as Spark serialises it (2); on the driver its serialised copies
        long pieces = EXCHANGE_HEAP_PIECES * Math.min(f * (p + u), Rounds.EXCHANGE_PIECE_BYTES);
        long live = BASE_HEAP + workers * pieces
                + (long) Math.ceil((driver ? DRIVER_HEAP_COPIES : 3) * f * (p + u));
        long heap = (long) Math.ceil(HEAP_HEADROOM * live);
        return new Need(s, batch, minibatch, workers, updater, driver, network, step, data, exchange, evaluation, driverOff,
                BASE_OFF_HEAP + Math.max(1, workers) * WORKER_OFF_HEAP,
                live, heap);
    }
}
