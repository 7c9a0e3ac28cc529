package sparkconv.models;

import java.util.Collection;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.ndarray.INDArray;

/** What every zoo layer configuration's {@code instantiate} does after building its own layer class, as DL4J's do. */
final class ZooLayers {
    private ZooLayers() {
    }

    /** {@code layer} given its listeners, index, parameter view and (initialised) parameter table, and {@code conf}. */
    static <L extends Layer> L wired(L layer, NeuralNetConfiguration conf, Collection<TrainingListener> listeners, int index,
            INDArray paramsView, boolean initializeParams) {
        layer.setListeners(listeners);
        layer.setIndex(index);
        layer.setParamsViewArray(paramsView);
        layer.setParamTable(conf.getLayer().initializer().init(conf, paramsView, initializeParams));
        layer.setConf(conf);
        return layer;
    }
}
