package sparkconv.models;

import java.util.Collection;
import java.util.Map;

import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.convolution.ConvolutionHelper;
import org.deeplearning4j.nn.params.ConvolutionParamInitializer;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.common.primitives.Pair;
import org.nd4j.enums.WeightsFormat;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.layers.convolution.Conv2D;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Conv2DConfig;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.PaddingMode;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A {@link ConvolutionLayer} for a network's first layer: same configuration, parameters and forward pass, but its
 * backward pass computes only the weight and bias gradients, not the gradient with respect to the network's input,
 * which nothing uses (PyTorch skips it the same way: the input does not require a gradient).
 *
 * <p>Why: DL4J's oneDNN helper always runs {@code conv2d_bp}, which computes the input gradient too. For a
 * one-channel input oneDNN's backward-data kernel pads the channel to a 16-wide block and then reorders the result
 * back: on LeNet-5 (one thread, batch 64) that was 3.7 ms plus 1.3 ms of reorders in a ~16 ms training step, more than
 * the whole forward pass (oneDNN's own timings, {@code DNNL_VERBOSE=1}); the replacement below takes about 1.3 ms.
 * The weight gradient of a stride-1 convolution is itself a convolution (input channels and batch swapped, the output
 * gradient as the kernel), so it runs through oneDNN's forward kernel. Other cases (strides, dilation, Same mode, NHWC,
 * or the layer used past index 0) take the stock path. A dilated first layer (the chart CNNs' 20- and 60-day networks)
 * runs without the helper at all: oneDNN cannot build it here.
 */
public class InputConvolutionLayer extends ConvolutionLayer {
    /** For JSON deserialisation (stored models). */
    public InputConvolutionLayer() {
    }

    public InputConvolutionLayer(ConvolutionLayer.Builder builder) {
        super(builder);
    }

    @Override
    public org.deeplearning4j.nn.api.Layer instantiate(NeuralNetConfiguration conf, Collection<TrainingListener> listeners,
            int layerIndex, INDArray layerParamsView, boolean initializeParams, DataType networkDataType) {
        return ZooLayers.wired(new Layer(conf, networkDataType), conf, listeners, layerIndex, layerParamsView,
                initializeParams);
    }

    /** DL4J's convolution layer with its (oneDNN) helper wrapped; without a helper it is the stock layer. */
    static final class Layer extends org.deeplearning4j.nn.layers.convolution.ConvolutionLayer {
        Layer(NeuralNetConfiguration conf, DataType dataType) {
            super(conf, dataType);
            int[] dilation = ((ConvolutionLayer) conf.getLayer()).getDilation();
            if (dilation[0] != 1 || dilation[1] != 1) {
                // DL4J M2.1 cannot build a dilated convolution in oneDNN: it would try at every forward pass of each
                // network instance, log the failure with a stack trace, and fall back to this same built-in path.
                helper = null;
            } else if (helper != null) {
                helper = new WeightGradientsOnly(helper, this);
            }
        }
    }

    /** The helper's forward pass unchanged; its backward pass without the input gradient where that is safe. */
    public static final class WeightGradientsOnly implements ConvolutionHelper {
        private final ConvolutionHelper helper;
        private final Layer layer;

        WeightGradientsOnly(ConvolutionHelper helper, Layer layer) {
            this.helper = helper;
            this.layer = layer;
        }

        /** The helper whose forward pass this one uses (DL4J's oneDNN helper). */
        public ConvolutionHelper wrapped() {
            return helper;
        }

        @Override
        public boolean checkSupported() {
            return helper.checkSupported();
        }

        @Override
        public Pair<Gradient, INDArray> backpropGradient(INDArray input, INDArray weights, INDArray bias, INDArray delta,
                int[] kernel, int[] strides, int[] pad, INDArray biasGradView, INDArray weightGradView, IActivation afn,
                AlgoMode mode, BwdFilterAlgo bwdFilterAlgo, BwdDataAlgo bwdDataAlgo, ConvolutionMode convolutionMode,
                int[] dilation, CNN2DFormat format, LayerWorkspaceMgr workspaceMgr) {
            boolean plain = layer.getIndex() == 0 && format == CNN2DFormat.NCHW && convolutionMode != ConvolutionMode.Same
                    && strides[0] == 1 && strides[1] == 1 && dilation[0] == 1 && dilation[1] == 1;
            if (!plain) {
                return helper.backpropGradient(input, weights, bias, delta, kernel, strides, pad, biasGradView, weightGradView,
                        afn, mode, bwdFilterAlgo, bwdDataAlgo, convolutionMode, dilation, format, workspaceMgr);
            }
            // dW[o][c][i][j] = sum over n, y, x of input[n][c][y+i][x+j] * delta[n][o][y][x]: a convolution of the input
            // seen as [c][n][h][w] with the output gradient seen as an [o][n][oh][ow] kernel, giving [c][o][kh][kw].
            INDArray gradient = Nd4j.createUninitialized(weights.dataType(), weights.size(1), weights.size(0), kernel[0], kernel[1]);
            Conv2DConfig config = Conv2DConfig.builder().kH(delta.size(2)).kW(delta.size(3)).sH(1).sW(1).pH(pad[0]).pW(pad[1])
                    .dH(1).dW(1).paddingMode(PaddingMode.VALID).dataFormat(Conv2DConfig.NCHW).weightsFormat(WeightsFormat.OIYX)
                    .build();
            Nd4j.exec(new Conv2D(new INDArray[] {input.permute(1, 0, 2, 3), delta.permute(1, 0, 2, 3)}, new INDArray[] {gradient}, config));
            weightGradView.assign(gradient.permute(1, 0, 2, 3));
            delta.sum(biasGradView.reshape(biasGradView.length()), 0, 2, 3);
            Gradient result = new DefaultGradient();
            result.setGradientFor(ConvolutionParamInitializer.BIAS_KEY, biasGradView);
            result.setGradientFor(ConvolutionParamInitializer.WEIGHT_KEY, weightGradView, 'c');
            return new Pair<>(result, null); // null epsilon: MultiLayerNetwork stops backpropagation at layer 0
        }

        @Override
        public INDArray preOutput(INDArray input, INDArray weights, INDArray bias, int[] kernel, int[] strides, int[] pad,
                AlgoMode mode, FwdAlgo fwdAlgo, ConvolutionMode convolutionMode, int[] dilation, CNN2DFormat format,
                LayerWorkspaceMgr workspaceMgr) {
            return helper.preOutput(input, weights, bias, kernel, strides, pad, mode, fwdAlgo, convolutionMode, dilation, format,
                    workspaceMgr);
        }

        @Override
        public INDArray activate(INDArray z, IActivation afn, boolean training) {
            return helper.activate(z, afn, training);
        }

        @Override
        public Map<String, Long> helperMemoryUse() {
            return helper.helperMemoryUse();
        }
    }
}
