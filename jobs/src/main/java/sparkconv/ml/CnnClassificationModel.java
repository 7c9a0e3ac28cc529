package sparkconv.ml;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.stream.StreamSupport;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileUtil;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.ml.Model;
import org.apache.spark.ml.attribute.NominalAttribute;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWriter;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import sparkconv.SparkconvException;
import sparkconv.models.ModelZoo;
import sparkconv.score.ImageScorer;
import sparkconv.score.ScoringModel;
import sparkconv.spark.Fs;
import sparkconv.spark.ImageIoPlugin;

/**
 * A trained sparkconv classifier as a Spark ML {@link Model}: {@link #transform} appends the predicted class index
 * (with the class names as the column's nominal attribute, so {@code IndexToString} maps it back) and the class
 * probabilities (with {@code topK > 0} also score's {@code top_k} column), computed by {@code score}'s own {@link ImageScorer}: the same decoding, normalisation, batches and
 * per-executor network cache. Rows whose image cannot be used follow {@code handleInvalid}: {@code error} fails the
 * job naming the row, {@code skip} drops it, {@code keep} gives it null scores and the reason in {@code errorCol}.
 *
 * <p>The model is a stored sparkconv model version ({@link ScoringModel}: model.zip with its metadata): the one fit
 * published, one loaded from a model store by {@code NAME:VERSION|latest|best} ({@link #fromStore}), or the copy
 * {@code write().save(path)} makes under {@code path/version} beside Spark's param metadata.
 */
public final class CnnClassificationModel extends Model<CnnClassificationModel>
        implements CnnParams<CnnClassificationModel>, MLWritable {
    /** Where a saved model keeps its sparkconv model version (model.zip, metadata.json), beside Spark's metadata/. */
    static final String VERSION_DIR = "version";

    private final String uid;
    private final Shared shared;
    private final ScoringModel scoring;

    public CnnClassificationModel(String uid, ScoringModel scoring) {
        this.uid = uid;
        this.shared = new Shared(this);
        this.scoring = scoring;
        set(inputShape(), scoring.shape()); // the stored version's shape, whatever the estimator's param said
    }

    /** A version from a model store: {@code NAME[:VERSION|latest|best]}, resolved as {@code score --model} resolves it. */
    public static CnnClassificationModel fromStore(String spec, String storeUri) {
        Configuration conf = SparkSession.active().sparkContext().hadoopConfiguration();
        return new CnnClassificationModel(Identifiable.randomUID("cnnClassificationModel"), ScoringModel.resolve(spec, storeUri, conf));
    }

    @Override
    public String uid() {
        return uid;
    }

    @Override
    public Shared shared() {
        return shared;
    }

    /** The stored model version this model scores with. */
    public ScoringModel scoringModel() {
        return scoring;
    }

    public List<String> classes() {
        return scoring.classes();
    }

    /** Also checks that {@code inputShape} is the stored version's: the network takes no other. */
    @Override
    public StructType transformSchema(StructType schema) {
        if (!input().equals(new ModelZoo.Input(scoring.channels(), scoring.height(), scoring.width()))) {
            throw new IllegalArgumentException(scoring + " takes inputShape " + scoring.shape() + " (its metadata), not " + getInputShape());
        }
        return outputSchema(this, schema, scoring.classes());
    }

    /**
     * {@code schema} with the prediction and probability columns (with topK > 0 the top-k column, under {@code keep} the
     * error column) appended; the features column is checked and no output column may exist already. {@code classes}
     * null: not known yet (fit).
     */
    static StructType outputSchema(CnnParams<?> params, StructType schema, List<String> classes) {
        params.features(schema);
        NominalAttribute prediction = NominalAttribute.defaultAttr().withName(params.getPredictionCol());
        StructField named = (classes == null ? prediction : prediction.withValues(classes.toArray(String[]::new))).toStructField();
        List<StructField> outputs = new ArrayList<>(List.of(
                new StructField(named.name(), named.dataType(), true, named.metadata()), // null: keep's error rows
                new StructField(params.getProbabilityCol(), SQLDataTypes.VectorType(), true, Metadata.empty())));
        if (params.getTopK() > 0) {
            outputs.add(new StructField(params.getTopKCol(), DataTypes.createArrayType(ImageScorer.TOP_K_ENTRY, false), true, Metadata.empty()));
        }
        if (params.getHandleInvalid().equals("keep")) {
            outputs.add(new StructField(params.getErrorCol(), DataTypes.StringType, true, Metadata.empty()));
        }
        StructType out = schema;
        for (StructField f : outputs) {
            if (Arrays.asList(schema.fieldNames()).contains(f.name())) {
                throw new IllegalArgumentException("output column '" + f.name() + "' already exists; rename it or set another column name");
            }
            out = out.add(f);
        }
        return out;
    }

    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        StructType out = transformSchema(dataset.schema());
        FeatureColumn features = features(dataset.schema());
        if (features.kind() == FeatureColumn.Kind.IMAGE) {
            ImageIoPlugin.onDriver(dataset.sparkSession().sparkContext());
        }
        ImageScorer scorer = new ImageScorer(scoring, Math.max(1, getTopK()), getBatchSize());
        String handleInvalid = getHandleInvalid();
        boolean topK = getTopK() > 0;
        boolean keep = handleInvalid.equals("keep");
        int columns = dataset.schema().size();
        int classes = scoring.classes().size(); // a local: the function must not capture this model
        MapPartitionsFunction<Row, Row> score = rows -> {
            long[] n = {0};
            Iterator<Row> scored = scorer.scorePixels(rows, row -> features.pixels(row, scorer.decoder()), row -> null,
                    (row, p, at, error) -> {
                        n[0]++;
                        if (error != null && handleInvalid.equals("skip")) {
                            return null;
                        }
                        if (error != null && !keep) {
                            throw new SparkconvException("features column '" + features.name() + "': " + features.path(row, n[0] - 1)
                                    + " in this partition cannot be scored: " + error
                                    + " (handleInvalid=error; skip drops such rows, keep gives them null scores and an error)");
                        }
                        List<Object> values = new ArrayList<>(columns + 4);
                        for (int i = 0; i < columns; i++) {
                            values.add(row.get(i));
                        }
                        if (error == null) {
                            double[] probabilities = new double[classes];
                            for (int c = 0; c < classes; c++) {
                                probabilities[c] = p[at + c];
                            }
                            Vector v = Vectors.dense(probabilities);
                            values.add((double) v.argmax());
                            values.add(v);
                        } else {
                            values.add(null);
                            values.add(null);
                        }
                        if (topK) {
                            values.add(error == null ? scorer.topK(p, at) : null);
                        }
                        if (keep) {
                            values.add(error);
                        }
                        return RowFactory.create(values.toArray());
                    });
            return StreamSupport.stream(Spliterators.spliteratorUnknownSize(scored, Spliterator.ORDERED), false)
                    .filter(Objects::nonNull).iterator();
        };
        String prediction = getPredictionCol();
        // the row encoder drops column metadata: the class names go back on the prediction for IndexToString; Spark's
        // image source is read without its cost per file (SparkImageSource)
        return SparkImageSource.of(dataset).mapPartitions(score, Encoders.row(out))
                .withColumn(prediction, org.apache.spark.sql.functions.col(prediction).as(prediction, out.apply(prediction).metadata()));
    }

    @Override
    public CnnClassificationModel copy(ParamMap extra) {
        return copyValues(new CnnClassificationModel(uid, scoring), extra).setParent(parent());
    }

    @Override
    public MLWriter write() {
        return new Writer(this);
    }

    public static MLReader<CnnClassificationModel> read() {
        return new Reader();
    }

    public static CnnClassificationModel load(String path) {
        return read().load(path);
    }

    /** Spark's param metadata (as every ML stage writes it) and a copy of the model version under {@link #VERSION_DIR}. */
    private static final class Writer extends MLWriter {
        private final CnnClassificationModel model;

        Writer(CnnClassificationModel model) {
            this.model = model;
        }

        @Override
        public void saveImpl(String path) {
            DefaultParamsWriter.saveMetadata(model, path, sc(), scala.Option.empty(), scala.Option.empty());
            Configuration conf = sc().hadoopConfiguration();
            Path from = Fs.path(model.scoring.uri());
            Path to = Fs.child(path, VERSION_DIR);
            try {
                if (!FileUtil.copy(Fs.fs(from, conf), from, Fs.fs(to, conf), to, false, conf)) {
                    throw new SparkconvException(from + ": could not copy the model version to " + to);
                }
            } catch (IOException e) {
                throw new SparkconvException(from + ": could not copy the model version to " + to + ": " + e.getMessage(), e);
            }
        }
    }

    private static final class Reader extends MLReader<CnnClassificationModel> {
        @Override
        public CnnClassificationModel load(String path) {
            DefaultParamsReader.Metadata metadata = DefaultParamsReader.loadMetadata(path, sc(), CnnClassificationModel.class.getName());
            ScoringModel scoring = ScoringModel.resolve(Fs.child(path, VERSION_DIR).toString(), null, sc().hadoopConfiguration());
            CnnClassificationModel model = new CnnClassificationModel(metadata.uid(), scoring);
            metadata.getAndSetParams(model, scala.Option.empty());
            return model;
        }
    }
}
