package sparkconv.models;

import java.util.ArrayList;
import java.util.List;

import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.Deconvolution2D;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;

import sparkconv.SparkconvException;

/**
 * The per-layer table {@code describe} prints: every shape comes from DL4J's own InputType propagation and every
 * parameter count from the layer's param initializer, so the table is what DL4J will really build.
 */
public record ModelSummary(String name, String input, List<Row> rows, long totalParams) {

    /** {@code macs}: the layer's multiply-adds per example in a forward pass (convolutions and dense layers; 0 else). */
    public record Row(int index, String kind, String kernel, String stride, String padding, String inputShape,
                      String outputShape, long params, long macs) {
    }

    /** Multiply-adds per example in a forward pass, all layers. */
    public long forwardMacs() {
        return rows.stream().mapToLong(Row::macs).sum();
    }

    /**
     * Floating-point operations per example of a training step (2 per multiply-add): the forward pass, the gradient
     * with respect to each layer's input (none for the first layer's input) and the gradient with respect to its
     * weights, each as many multiply-adds as the forward pass.
     */
    public long trainingFlops() {
        long firstLayer = rows.stream().filter(r -> r.macs() > 0).mapToLong(Row::macs).findFirst().orElse(0);
        return 2 * (3 * forwardMacs() - firstLayer);
    }

    public static ModelSummary of(String name, MultiLayerConfiguration conf, InputType input) {
        List<InputType> types = conf.getLayerActivationTypes(input);
        List<Row> rows = new ArrayList<>();
        long total = 0;
        InputType in = input;
        for (int i = 0; i < conf.getConfs().size(); i++) {
            NeuralNetConfiguration layerConf = conf.getConf(i);
            Layer layer = layerConf.getLayer();
            InputType out = types.get(i);
            long params = layer.initializer().numParams(layerConf);
            total += params;
            // DL4J flattens conv activations into dense layers implicitly: show it as the dense layer's input.
            String inShape = shape(in);
            if (in.getType() == InputType.Type.CNN && out.getType() == InputType.Type.FF) {
                inShape = inShape + " -> flatten " + in.arrayElementsPerExample();
            }
            rows.add(row(i, kind(layer), layer, inShape, shape(out), params, macs(layer, in, out)));
            in = out;
        }
        return new ModelSummary(name, shape(input), rows, total);
    }

    /**
     * A ComputationGraph, one row per vertex in topological order; the kind column names the vertex, the input
     * column the vertices feeding it (a skip connection shows as a merge of an encoder and a decoder vertex).
     */
    public static ModelSummary of(String name, ComputationGraphConfiguration conf, InputType input) {
        Map<String, InputType> types = conf.getLayerActivationTypes(input);
        Map<String, List<String>> inputs = conf.getVertexInputs();
        List<Row> rows = new ArrayList<>();
        long total = 0;
        int index = 0;
        for (String vertexName : topologicalOrder(conf)) {
            GraphVertex vertex = conf.getVertices().get(vertexName);
            List<String> from = inputs.get(vertexName);
            String inShape = String.join(" + ", from.stream()
                    .map(v -> v + " " + shape(types.containsKey(v) ? types.get(v) : input)).toList());
            String outShape = shape(types.get(vertexName));
            if (vertex instanceof LayerVertex lv) {
                Layer layer = lv.getLayerConf().getLayer();
                long params = layer.initializer().numParams(lv.getLayerConf());
                total += params;
                InputType in = from.size() == 1 && types.containsKey(from.get(0)) ? types.get(from.get(0)) : input;
                rows.add(row(index++, vertexName + " " + kind(layer), layer, inShape, outShape, params,
                        macs(layer, in, types.get(vertexName))));
            } else {
                String kind = vertex instanceof MergeVertex ? "concat" : vertex.getClass().getSimpleName();
                rows.add(new Row(index++, vertexName + " " + kind, "", "", "", inShape, outShape, 0, 0));
            }
        }
        return new ModelSummary(name, shape(input), rows, total);
    }

    /** Kahn's order over the graph's vertex inputs, ties broken by insertion order (DL4J's own order is set only at init). */
    private static List<String> topologicalOrder(ComputationGraphConfiguration conf) {
        Map<String, List<String>> inputs = conf.getVertexInputs();
        Set<String> done = new HashSet<>(conf.getNetworkInputs());
        List<String> order = new ArrayList<>();
        List<String> pending = new ArrayList<>(conf.getVertices().keySet());
        while (!pending.isEmpty()) {
            String next = pending.stream().filter(v -> done.containsAll(inputs.get(v))).findFirst()
                    .orElseThrow(() -> new SparkconvException("graph has a cycle among " + pending));
            pending.remove(next);
            done.add(next);
            order.add(next);
        }
        return order;
    }

    /**
     * A layer's multiply-adds per example in a forward pass, from its input and output shapes: a convolution's every
     * output value sums kernel height x width x input channels products, a transposed convolution's every input value
     * spreads over kernel x output channels, a dense layer's every output sums its inputs. Pooling, normalisation and
     * activations are memory-bound and counted as none.
     */
    static long macs(Layer layer, InputType in, InputType out) {
        if (layer instanceof Deconvolution2D d && in instanceof InputType.InputTypeConvolutional i
                && out instanceof InputType.InputTypeConvolutional o) {
            return i.getHeight() * i.getWidth() * i.getChannels() * d.getKernelSize()[0] * d.getKernelSize()[1] * o.getChannels();
        }
        if (layer instanceof ConvolutionLayer c && in instanceof InputType.InputTypeConvolutional i
                && out instanceof InputType.InputTypeConvolutional o) {
            return o.getHeight() * o.getWidth() * o.getChannels() * c.getKernelSize()[0] * c.getKernelSize()[1] * i.getChannels();
        }
        if (layer instanceof DenseLayer d) {
            return d.getNIn() * d.getNOut();
        }
        if (layer instanceof OutputLayer o) {
            return o.getNIn() * o.getNOut();
        }
        return 0;
    }

    private static Row row(int index, String kind, Layer layer, String inShape, String outShape, long params, long macs) {
        String kernel = "";
        String stride = "";
        String padding = "";
        if (layer instanceof ConvolutionLayer c) {
            kernel = c.getKernelSize()[0] + "x" + c.getKernelSize()[1];
            stride = stride(c.getStride());
            padding = paddingText(c.getConvolutionMode(), c.getPadding()[0]);
        } else if (layer instanceof SubsamplingLayer s) {
            kernel = s.getKernelSize()[0] + "x" + s.getKernelSize()[1] + " " + s.getPoolingType().name().toLowerCase();
            stride = stride(s.getStride());
            padding = paddingText(s.getConvolutionMode(), s.getPadding()[0]);
        }
        return new Row(index, kind, kernel, stride, padding, inShape, outShape, params, macs);
    }

    private static String kind(Layer layer) {
        String n = layer.getClass().getSimpleName();
        return switch (n) {
            case "ConvolutionLayer", "InputConvolutionLayer" -> "conv";
            case "SubsamplingLayer", "VectorisedMaxPooling" -> "pool";
            case "DenseLayer" -> "dense";
            case "OutputLayer" -> "output";
            case "BatchNormalization", "VectorisedBatchNormalization" -> "bnorm";
            case "ActivationLayer" -> "act";
            case "Deconvolution2D" -> "deconv";
            case "CnnLossLayer" -> "pixel-softmax";
            case "LocalResponseNormalization", "FusedLocalResponseNormalization" -> "lrn";
            default -> n;
        };
    }

    private static String stride(int[] s) {
        return s[0] == s[1] ? Integer.toString(s[0]) : s[0] + "x" + s[1];
    }

    private static String paddingText(ConvolutionMode mode, int p) {
        if (mode == ConvolutionMode.Same) {
            return "same";
        }
        return p == 0 ? "valid" : Integer.toString(p);
    }

    public static String shape(InputType t) {
        if (t instanceof InputType.InputTypeConvolutional c) {
            return c.getHeight() + "x" + c.getWidth() + "x" + c.getChannels();
        }
        if (t instanceof InputType.InputTypeFeedForward f) {
            return Long.toString(f.getSize());
        }
        return t.toString();
    }

    /** A single convolution layer, as in the chapter's exercises (e.g. 5x5x32 on 64x64x3 with same padding). */
    public static ModelSummary singleConv(ModelZoo.Input input, int kernel, int filters, int stride, String padding) {
        if (kernel < 1 || filters < 1 || stride < 1) {
            throw new SparkconvException("kernel, filters and stride must be positive");
        }
        ConvolutionLayer.Builder b = new ConvolutionLayer.Builder(kernel, kernel).stride(stride, stride).nOut(filters);
        switch (padding) {
            case "same" -> b.convolutionMode(ConvolutionMode.Same);
            case "valid" -> b.convolutionMode(ConvolutionMode.Truncate).padding(0, 0);
            default -> {
                try {
                    int p = Integer.parseInt(padding);
                    b.convolutionMode(ConvolutionMode.Truncate).padding(p, p);
                } catch (NumberFormatException e) {
                    throw new SparkconvException("--padding must be same, valid or a number, got '" + padding + "'");
                }
            }
        }
        if (input.height() < kernel && !"same".equals(padding)) {
            throw new SparkconvException("kernel " + kernel + " is larger than the " + input + " input");
        }
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().list()
                .layer(b.build())
                .setInputType(input.inputType())
                .validateOutputLayerConfig(false)
                .build();
        return of("conv " + kernel + "x" + kernel + "x" + filters, conf, input.inputType());
    }

    public String table() {
        StringBuilder sb = new StringBuilder();
        sb.append(name).append(" (input ").append(input).append(")\n");
        int kindWidth = Math.max(7, rows.stream().mapToInt(r -> r.kind().length()).max().orElse(0));
        int inWidth = Math.max(26, rows.stream().mapToInt(r -> r.inputShape().length()).max().orElse(0));
        String fmt = "%-3s %-" + kindWidth + "s %-10s %-6s %-7s %-" + inWidth + "s %-12s %10s%n";
        sb.append(String.format(fmt, "#", "layer", "kernel", "stride", "padding", "input", "output", "params"));
        for (Row r : rows) {
            sb.append(String.format(fmt, r.index(), r.kind(), r.kernel(), r.stride(), r.padding(), r.inputShape(),
                    r.outputShape(), String.format("%,d", r.params())));
        }
        sb.append(String.format("total parameters: %,d%n", totalParams));
        if (forwardMacs() > 0) {
            sb.append(String.format("arithmetic per example: forward %,.1f MFLOP (%,d multiply-adds); training step %,.1f MFLOP "
                    + "(forward, backward data, backward weights)%n", 2 * forwardMacs() / 1e6, forwardMacs(), trainingFlops() / 1e6));
        }
        return sb.toString();
    }
}
