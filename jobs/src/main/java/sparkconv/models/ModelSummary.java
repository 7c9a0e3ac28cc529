package sparkconv.models;

import java.util.ArrayList;
import java.util.List;

import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;

import sparkconv.SparkconvException;

/**
 * The per-layer table {@code describe} prints: every shape comes from DL4J's own InputType propagation and every
 * parameter count from the layer's param initializer, so the table is what DL4J will really build.
 */
public record ModelSummary(String name, String input, List<Row> rows, long totalParams) {

    public record Row(int index, String kind, String kernel, String stride, String padding, String inputShape,
                      String outputShape, long params) {
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
            // DL4J flattens conv activations into dense layers implicitly: show it as the dense layer's input.
            String inShape = shape(in);
            if (in.getType() == InputType.Type.CNN && out.getType() == InputType.Type.FF) {
                inShape = inShape + " -> flatten " + in.arrayElementsPerExample();
            }
            rows.add(new Row(i, kind(layer), kernel, stride, padding, inShape, shape(out), params));
            in = out;
        }
        return new ModelSummary(name, shape(input), rows, total);
    }

    private static String kind(Layer layer) {
        String n = layer.getClass().getSimpleName();
        return switch (n) {
            case "ConvolutionLayer" -> "conv";
            case "SubsamplingLayer" -> "pool";
            case "DenseLayer" -> "dense";
            case "OutputLayer" -> "output";
            case "BatchNormalization" -> "bnorm";
            case "ActivationLayer" -> "act";
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
        String fmt = "%-3s %-7s %-10s %-6s %-7s %-26s %-12s %10s%n";
        sb.append(String.format(fmt, "#", "layer", "kernel", "stride", "padding", "input", "output", "params"));
        for (Row r : rows) {
            sb.append(String.format(fmt, r.index(), r.kind(), r.kernel(), r.stride(), r.padding(), r.inputShape(),
                    r.outputShape(), String.format("%,d", r.params())));
        }
        sb.append(String.format("total parameters: %,d%n", totalParams));
        return sb.toString();
    }
}
