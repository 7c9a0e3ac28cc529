package sparkconv.ml;

import java.util.List;

import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.param.Params;
import org.apache.spark.sql.types.StructType;

import sparkconv.models.ModelZoo;

/**
 * The params {@link CnnClassifier} and {@link CnnClassificationModel} share: the columns, how invalid rows are handled,
 * the input shape and the batch. Spark ML finds a stage's params by its public no-argument methods returning a
 * {@link Param}; these default methods are those methods for both classes, over one {@link Shared} per instance (a Param
 * belongs to its owner's uid, so it cannot be a static).
 *
 * @param <S> the implementing class, which the setters return
 */
public interface CnnParams<S extends CnnParams<S>> extends Params {
    /** {@code error}: fail on a row that cannot be used; {@code skip}: leave it out; {@code keep}: score it as an error row. */
    List<String> HANDLE_INVALID = List.of("error", "skip", "keep");

    /** This instance's params. */
    Shared shared();

    default Param<String> featuresCol() {
        return shared().featuresCol;
    }

    default Param<String> labelCol() {
        return shared().labelCol;
    }

    default Param<String> predictionCol() {
        return shared().predictionCol;
    }

    default Param<String> probabilityCol() {
        return shared().probabilityCol;
    }

    default Param<String> errorCol() {
        return shared().errorCol;
    }

    default IntParam topK() {
        return shared().topK;
    }

    default Param<String> topKCol() {
        return shared().topKCol;
    }

    default Param<String> handleInvalid() {
        return shared().handleInvalid;
    }

    default Param<String> inputShape() {
        return shared().inputShape;
    }

    default IntParam batchSize() {
        return shared().batchSize;
    }

    default String getFeaturesCol() {
        return getOrDefault(featuresCol());
    }

    default String getLabelCol() {
        return getOrDefault(labelCol());
    }

    default String getPredictionCol() {
        return getOrDefault(predictionCol());
    }

    default String getProbabilityCol() {
        return getOrDefault(probabilityCol());
    }

    default String getErrorCol() {
        return getOrDefault(errorCol());
    }

    default int getTopK() {
        return (Integer) getOrDefault(topK());
    }

    default String getTopKCol() {
        return getOrDefault(topKCol());
    }

    default String getHandleInvalid() {
        return getOrDefault(handleInvalid());
    }

    default String getInputShape() {
        return getOrDefault(inputShape());
    }

    default int getBatchSize() {
        return (Integer) getOrDefault(batchSize());
    }

    default S setFeaturesCol(String value) {
        return with(featuresCol(), value);
    }

    default S setLabelCol(String value) {
        return with(labelCol(), value);
    }

    default S setPredictionCol(String value) {
        return with(predictionCol(), value);
    }

    default S setProbabilityCol(String value) {
        return with(probabilityCol(), value);
    }

    default S setErrorCol(String value) {
        return with(errorCol(), value);
    }

    default S setTopK(int value) {
        return with(topK(), value);
    }

    default S setTopKCol(String value) {
        return with(topKCol(), value);
    }

    default S setHandleInvalid(String value) {
        return with(handleInvalid(), value);
    }

    default S setInputShape(String value) {
        return with(inputShape(), value);
    }

    default S setBatchSize(int value) {
        return with(batchSize(), value);
    }

    /** Sets a param (validated by Spark) and returns this stage, typed. */
    @SuppressWarnings("unchecked")
    default <T> S with(Param<T> param, T value) {
        set(param, value);
        return (S) this;
    }

    /** The input shape as channels, height and width. */
    default ModelZoo.Input input() {
        return ModelZoo.Input.parse(getInputShape());
    }

    /** The features column as one of the kinds this package reads, or a message naming the column and its type. */
    default FeatureColumn features(StructType schema) {
        return FeatureColumn.of(schema, getFeaturesCol());
    }

    /** A param validator that accepts what {@code parse} accepts (sparkconv's own parsers hold the syntax). */
    static <T> scala.Function1<T, Object> parses(Check<T> parse) {
        return (scala.Function1<T, Object> & java.io.Serializable) value -> {
            try {
                parse.accept(value);
                return true;
            } catch (RuntimeException e) {
                return false;
            }
        };
    }

    /** A parse whose exception means the value is invalid (serializable: a Param holds it). */
    interface Check<T> extends java.io.Serializable {
        void accept(T value);
    }

    /** The shared params of one stage, with their defaults set on it. */
    final class Shared implements java.io.Serializable {
        final Param<String> featuresCol;
        final Param<String> labelCol;
        final Param<String> predictionCol;
        final Param<String> probabilityCol;
        final Param<String> errorCol;
        final IntParam topK;
        final Param<String> topKCol;
        final Param<String> handleInvalid;
        final Param<String> inputShape;
        final IntParam batchSize;

        Shared(Params owner) {
            featuresCol = new Param<>(owner, "featuresCol", "images: the image data source's struct, encoded PNG / JPEG bytes "
                    + "(binaryFile's content), or pixel values 0-255 channel-first as a numeric array or ML Vector");
            labelCol = new Param<>(owner, "labelCol", "class index 0, 1, ... (numeric, as StringIndexer leaves it; its class "
                    + "names from the column's nominal attribute when present)");
            predictionCol = new Param<>(owner, "predictionCol", "predicted class index (double)");
            probabilityCol = new Param<>(owner, "probabilityCol", "class probabilities (ML Vector)");
            errorCol = new Param<>(owner, "errorCol", "why a row could not be scored (handleInvalid=keep), null for scored rows");
            topK = new IntParam(owner, "topK", "classes listed per row in topKCol, best first, as score's top_k (class_index, "
                    + "class_name, probability); 0: no such column", ParamValidators.gtEq(0));
            topKCol = new Param<>(owner, "topKCol", "the top classes of a row (when topK > 0)");
            handleInvalid = new Param<>(owner, "handleInvalid", "rows whose image cannot be decoded or has the wrong size: "
                    + String.join(", ", HANDLE_INVALID) + " (fit leaves them out under skip and keep)",
                    ParamValidators.inArray(HANDLE_INVALID));
            inputShape = new Param<>(owner, "inputShape", "the model's input HxWxC; images are resized to it, arrays and vectors "
                    + "must hold C*H*W values", parses(ModelZoo.Input::parse));
            batchSize = new IntParam(owner, "batchSize", "images per minibatch: per worker in training (the shards' batch), per "
                    + "forward pass in transform", ParamValidators.gtEq(1));
            // setDefault is protected in Scala, which compiles it public: the holder sets its params' defaults on the owner
            owner.setDefault(featuresCol, "image");
            owner.setDefault(labelCol, "label");
            owner.setDefault(predictionCol, "prediction");
            owner.setDefault(probabilityCol, "probability");
            owner.setDefault(errorCol, "error");
            owner.setDefault(topK, 0);
            owner.setDefault(topKCol, "topK");
            owner.setDefault(handleInvalid, "error");
            owner.setDefault(inputShape, "28x28x1");
            owner.setDefault(batchSize, 64);
        }
    }
}
