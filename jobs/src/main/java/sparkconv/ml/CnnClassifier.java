package sparkconv.ml;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.ml.Estimator;
import org.apache.spark.ml.attribute.Attribute;
import org.apache.spark.ml.attribute.NominalAttribute;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import sparkconv.cli.ConfDefaults;
import sparkconv.data.BadImage;
import sparkconv.data.DecodedImage;
import sparkconv.data.ImageDecoder;
import sparkconv.models.Hyper;
import sparkconv.models.ModelZoo;
import sparkconv.models.TrainingDefaults;
import sparkconv.preprocess.ImagePreprocess;
import sparkconv.score.ScoringModel;
import sparkconv.shards.ImageStats;
import sparkconv.shards.Manifest;
import sparkconv.shards.ShardWriter;
import sparkconv.spark.Fs;
import sparkconv.spark.ImageIoPlugin;
import sparkconv.store.ModelStore;
import sparkconv.train.AveragingPolicy;
import sparkconv.train.Checkpoints;
import sparkconv.train.LrSchedule;
import sparkconv.train.TrainControl;
import sparkconv.train.TrainOptions;
import sparkconv.train.TrainingRun;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.floor;
import static org.apache.spark.sql.functions.isnan;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

/**
 * sparkconv's training as a Spark ML {@link Estimator}: {@code fit} writes the DataFrame's images as the shards and
 * manifest {@code preprocess} writes ({@link ShardWriter}, under {@code workDir}), trains on them with {@code train}'s
 * trainer and policy ({@link TrainingRun}: parameter averaging, learning-rate schedule, checkpoints) and publishes the
 * version to a model store: {@code store} when set (so {@code models list}, {@code promote}, {@code score} see it), else
 * {@code workDir/store}. The result scores with {@code score}'s inference ({@link CnnClassificationModel}).
 *
 * <p>Rows are numbered in the order they arrive and shards follow that order, so the same rows in the same order give
 * the same shards as {@code preprocess} of those images, and the same seed the same model as {@code train}. The last
 * {@code validationFraction} of the rows is the validation split (as {@code preprocess} holds out the end of an IDX
 * training file); shuffle the DataFrame first if its order is not random. There is no test split: keep test rows
 * apart and evaluate the model's predictions (e.g. with {@code MulticlassClassificationEvaluator}).
 *
 * <p>Training settings default to {@code train}'s ({@code conf/defaults.properties}, {@code train.*}); for a model of
 * the zoo with settings of its own ({@code describe}), those win over the defaults unless the param is set, as on the
 * command line. Bad input fails before anything is written or trained, in one message naming the column or count.
 *
 * <p>Checkpoints are {@code train}'s: after every epoch, in the store, for the version being fitted. An interrupted fit
 * continues with {@code resume} (as {@code train --resume}), from its last checkpoint and on its shards when they hold
 * the same rows and settings; other rows, settings, model or seed are refused in one message.
 */
public final class CnnClassifier extends Estimator<CnnClassificationModel>
        implements CnnParams<CnnClassifier>, DefaultParamsWritable {
    private static final Logger LOG = LoggerFactory.getLogger(CnnClassifier.class);
    private static final List<String> SPLITS = List.of("train", "validation");

    private final String uid;
    private final Shared shared;
    private final Param<String> model;
    private final IntParam epochs;
    private final IntParam workers;
    private final IntParam averagingFrequency;
    private final Param<String> averagingPolicy;
    private final Param<String> updater;
    private final DoubleParam learningRate;
    private final Param<String> lrSchedule;
    private final DoubleParam momentum;
    private final DoubleParam l2;
    private final LongParam seed;
    private final DoubleParam validationFraction;
    private final Param<String> workDir;
    private final Param<String> store;
    private final Param<String> modelName;
    private final BooleanParam resume;
    /** Where progress lines go (null: the log); tests stop a fit at one, as the trainer's own tests stop a run. */
    transient Consumer<String> progress;

    public CnnClassifier() {
        this(Identifiable.randomUID("cnnClassifier"));
    }

    public CnnClassifier(String uid) {
        this.uid = uid;
        this.shared = new Shared(this);
        model = new Param<>(this, "model", "network from sparkconv's zoo (see sparkconv describe)",
                ParamValidators.inArray(ModelZoo.NAMES.stream().filter(m -> !ModelZoo.GRAPHS.contains(m)).toList()));
        epochs = new IntParam(this, "epochs", "training epochs", ParamValidators.gtEq(1));
        workers = new IntParam(this, "workers", "parameter-averaging workers; 0 = one per Spark task slot", ParamValidators.gtEq(0));
        averagingFrequency = new IntParam(this, "averagingFrequency", "minibatches each worker fits between averaging rounds",
                ParamValidators.gtEq(1));
        averagingPolicy = new Param<>(this, "averagingPolicy", "how the learning rate and averaging follow the workers: local, "
                + "linear[:E], sqrt[:E], post-local[:E], slowmo[:B], slowmo-reset[:B], sync[:b]", CnnParams.parses(AveragingPolicy::parse));
        updater = new Param<>(this, "updater", "nesterovs, adam or sgd", ParamValidators.inArray(List.of("nesterovs", "adam", "sgd")));
        learningRate = new DoubleParam(this, "learningRate", "starting learning rate", ParamValidators.gt(0));
        lrSchedule = new Param<>(this, "lrSchedule", "learning rate per epoch: constant, step:N:F, exp:G, cosine[:M]",
                CnnParams.parses(LrSchedule::parse));
        momentum = new DoubleParam(this, "momentum", "momentum of nesterovs", ParamValidators.gtEq(0));
        l2 = new DoubleParam(this, "l2", "L2 weight decay", ParamValidators.gtEq(0));
        seed = new LongParam(this, "seed", "random seed of the weights and the data order");
        validationFraction = new DoubleParam(this, "validationFraction", "the last share of the rows held out for validation "
                + "after each epoch", ParamValidators.inRange(0, 1, true, false));
        workDir = new Param<>(this, "workDir", "directory (any Hadoop URI the executors can read) for each fit's shards "
                + "(fit-<modelName>-<version>) and, when store is not set, the model store (store)");
        store = new Param<>(this, "store", "model store root to publish the trained version in (any Hadoop URI)");
        modelName = new Param<>(this, "modelName", "the version's model name in the store");
        resume = new BooleanParam(this, "resume", "continue the unfinished fit of modelName's next version from its last "
                + "checkpoint, on its shards when they hold the same rows and settings (as train --resume)");

        ConfDefaults conf = new ConfDefaults();
        setDefault(model, conf.value("train", "--model"));
        setDefault(epochs, Integer.parseInt(conf.value("train", "--epochs")));
        setDefault(workers, Integer.parseInt(conf.value("train", "--workers")));
        setDefault(averagingFrequency, Integer.parseInt(conf.value("train", "--averaging-frequency")));
        setDefault(averagingPolicy, conf.value("train", "--averaging-policy"));
        setDefault(updater, conf.value("train", "--updater"));
        setDefault(learningRate, Double.parseDouble(conf.value("train", "--lr")));
        setDefault(lrSchedule, conf.value("train", "--lr-schedule"));
        setDefault(momentum, Double.parseDouble(conf.value("train", "--momentum")));
        setDefault(l2, Double.parseDouble(conf.value("train", "--l2")));
        setDefault(seed, Long.parseLong(conf.value("train", "--seed")));
        setDefault(validationFraction, 0.1);
        setDefault(modelName, "cnn-classifier");
        setDefault(resume, false);
    }

    @Override
    public String uid() {
        return uid;
    }

    @Override
    public Shared shared() {
        return shared;
    }

    // Spark ML finds params by these public methods (and so do copy, save and load).

    public Param<String> model() {
        return model;
    }

    public IntParam epochs() {
        return epochs;
    }

    public IntParam workers() {
        return workers;
    }

    public IntParam averagingFrequency() {
        return averagingFrequency;
    }

    public Param<String> averagingPolicy() {
        return averagingPolicy;
    }

    public Param<String> updater() {
        return updater;
    }

    public DoubleParam learningRate() {
        return learningRate;
    }

    public Param<String> lrSchedule() {
        return lrSchedule;
    }

    public DoubleParam momentum() {
        return momentum;
    }

    public DoubleParam l2() {
        return l2;
    }

    public LongParam seed() {
        return seed;
    }

    public DoubleParam validationFraction() {
        return validationFraction;
    }

    public Param<String> workDir() {
        return workDir;
    }

    public Param<String> store() {
        return store;
    }

    public Param<String> modelName() {
        return modelName;
    }

    public BooleanParam resume() {
        return resume;
    }

    public boolean getResume() {
        return (Boolean) getOrDefault(resume);
    }

    public CnnClassifier setModel(String value) {
        return with(model, value);
    }

    public CnnClassifier setEpochs(int value) {
        return with(epochs, value);
    }

    public CnnClassifier setWorkers(int value) {
        return with(workers, value);
    }

    public CnnClassifier setAveragingFrequency(int value) {
        return with(averagingFrequency, value);
    }

    public CnnClassifier setAveragingPolicy(String value) {
        return with(averagingPolicy, value);
    }

    public CnnClassifier setUpdater(String value) {
        return with(updater, value);
    }

    public CnnClassifier setLearningRate(double value) {
        return with(learningRate, value);
    }

    public CnnClassifier setLrSchedule(String value) {
        return with(lrSchedule, value);
    }

    public CnnClassifier setMomentum(double value) {
        return with(momentum, value);
    }

    public CnnClassifier setL2(double value) {
        return with(l2, value);
    }

    public CnnClassifier setSeed(long value) {
        return with(seed, value);
    }

    public CnnClassifier setValidationFraction(double value) {
        return with(validationFraction, value);
    }

    public CnnClassifier setWorkDir(String value) {
        return with(workDir, value);
    }

    public CnnClassifier setStore(String value) {
        return with(store, value);
    }

    public CnnClassifier setModelName(String value) {
        return with(modelName, value);
    }

    public CnnClassifier setResume(boolean value) {
        return with(resume, value);
    }

    /**
     * The training settings {@code train} would use: a param set here wins, else the zoo model's own setting
     * ({@link TrainingDefaults}), else the param's default ({@code train}'s).
     */
    public TrainOptions trainOptions() {
        String net = getOrDefault(model);
        TrainingDefaults d = TrainingDefaults.of(net);
        Hyper hyper = new Hyper(pick(updater, d.updater()), pick(learningRate, d.learningRate()), pick(momentum, d.momentum()),
                pick(l2, d.l2()), (Long) getOrDefault(seed));
        TrainControl control = new TrainControl(LrSchedule.parse(pick(lrSchedule, d.lrSchedule())),
                d.patience() != null ? d.patience() : 0, getResume(), d.stopOn() != null ? d.stopOn() : "accuracy");
        return TrainOptions.builder(net, hyper).epochs(pick(epochs, d.epochs())).workers((Integer) getOrDefault(workers))
                .averagingFrequency((Integer) getOrDefault(averagingFrequency))
                .prefetch(Integer.parseInt(new ConfDefaults().value("train", "--prefetch"))).control(control)
                .policy(AveragingPolicy.parse(getOrDefault(averagingPolicy))).build();
    }

    @SuppressWarnings("unchecked")
    private <T> T pick(Param<?> param, T modelDefault) {
        return isSet(param) || modelDefault == null ? (T) getOrDefault(param) : modelDefault;
    }

    /** The output columns of the model fit returns, after checking the features and label columns. */
    @Override
    public StructType transformSchema(StructType schema) {
        String label = getLabelCol();
        if (!java.util.Arrays.asList(schema.fieldNames()).contains(label)) {
            throw new IllegalArgumentException("label column '" + label + "' does not exist (columns: "
                    + String.join(", ", schema.fieldNames()) + ")");
        }
        if (!(schema.apply(label).dataType() instanceof NumericType)) {
            throw new IllegalArgumentException("label column '" + label + "' is " + schema.apply(label).dataType().simpleString()
                    + ", not numeric: index class names first (StringIndexer)");
        }
        return CnnClassificationModel.outputSchema(this, schema, null);
    }

    @Override
    public CnnClassificationModel fit(Dataset<?> dataset) {
        transformSchema(dataset.schema());
        if (!isDefined(workDir)) {
            throw new IllegalArgumentException("CnnClassifier needs a work directory for its shards: setWorkDir(uri), any Hadoop "
                    + "URI the executors can read");
        }
        TrainOptions options = trainOptions();
        ModelZoo.Input input = input();
        try {
            // One forward pass of a blank image proves the network takes this shape (DL4J's build does not check kernels
            // against the sizes they meet; training would fail on its first minibatch, after the shards are written).
            MultiLayerNetwork net = new MultiLayerNetwork(ModelZoo.build(options.model(), input, 2, options.hyper()));
            net.init();
            net.output(Nd4j.zeros(DataType.FLOAT, 1, input.channels(), input.height(), input.width()), false);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("model " + options.model() + " does not take inputShape " + input + ": " + e.getMessage(), e);
        }
        SparkSession spark = dataset.sparkSession();
        var conf = spark.sparkContext().hadoopConfiguration();
        if (FeatureColumn.of(dataset.schema(), getFeaturesCol()).kind() == FeatureColumn.Kind.IMAGE) {
            ImageIoPlugin.onDriver(spark.sparkContext());
        }

        List<Column> columns = new ArrayList<>(List.of(col(getFeaturesCol()), col(getLabelCol()).cast("double")));
        FeatureColumn.of(dataset.schema(), getFeaturesCol()).carried(dataset.schema()).forEach(c -> columns.add(col(c)));
        // Read once, onto the executors' disks: the label check, the row numbering (zipWithIndex counts each partition
        // first) and the decoding would each read the input again, and from the image source decode every image again;
        // that read goes through SparkImageSource, which reads the image source's files without its cost per file.
        Dataset<Row> rows = SparkImageSource.of(dataset).select(columns.toArray(Column[]::new)).persist(StorageLevel.DISK_ONLY());
        try {
            Labels labels = labels(rows, dataset.schema().apply(getLabelCol()));
            FeatureColumn features = FeatureColumn.of(rows.schema(), getFeaturesCol());
            String name = getOrDefault(modelName);
            ModelStore models = new ModelStore(isDefined(store) ? getOrDefault(store)
                    : Fs.child(getOrDefault(workDir), "store").toString(), conf);
            // The version is claimed first: the fit's directory is named after it, so a resumed fit finds its shards there.
            try (ModelStore.VersionClaim claim = models.claimVersion(name, null, getResume())) {
                String run = Fs.child(getOrDefault(workDir), "fit-" + name + "-" + claim.version()).toString();
                Checkpoints checkpoints = Checkpoints.of(models, name, claim.version(), conf);
                Checkpoints.State unfinished = checkpoints.latest().orElse(null);
                if (unfinished != null && !getResume()) {
                    throw new IllegalArgumentException(checkpoints.runDir() + ": an unfinished fit of " + name + " "
                            + claim.version() + " has checkpoints up to epoch " + unfinished.epoch() + "; setResume(true) continues "
                            + "it (as train --resume does), or delete that directory");
                }
                if (unfinished != null && unfinished.mismatch(options) != null) {
                    throw new IllegalArgumentException(checkpoints.runDir() + ": " + unfinished.mismatch(options));
                }
                String shards = run + "/shards";
                writeShards(spark, rows, labels, features, input, run, shards, unfinished != null ? checkpoints : null);
                TrainingRun.Outcome outcome = TrainingRun.run(spark, shards, options, models, name, claim,
                        progress != null ? progress : LOG::info);
                ScoringModel scoring = ScoringModel.resolve(outcome.version().uri(), null, conf);
                return copyValues(new CnnClassificationModel(uid, scoring), ParamMap.empty()).setParent(this);
            }
        } finally {
            rows.unpersist(false);
        }
    }

    /**
     * Decodes the rows and writes them as the fit's shards, unless {@code shards} already holds them: a resumed fit
     * ({@code resumed}: the checkpoints it continues) finds the shards of the same rows and settings complete (the
     * manifest's lineage records both, the rows as {@link ImageStats#digest}) and trains on them as they are; shards of
     * other rows or settings are refused, since the checkpoint was trained on them.
     */
    private void writeShards(SparkSession spark, Dataset<Row> rows, Labels labels, FeatureColumn features, ModelZoo.Input input,
                             String run, String shards, Checkpoints resumed) {
        var conf = spark.sparkContext().hadoopConfiguration();
        long firstHeld = labels.rows() - Math.round(labels.rows() * (Double) getOrDefault(validationFraction));
        ImageDecoder decoder = new ImageDecoder(input.channels(), input.height(), input.width(), ImageDecoder.DEFAULT_MAX_PIXELS);
        List<String> classes = labels.classes();
        // Numbered as they arrive: the key orders the shards, so rows in the same order make the same shards.
        JavaRDD<DecodedImage> decoded = rows.toJavaRDD().zipWithIndex()
                .map(r -> image(r._1(), r._2(), features, decoder, classes, firstHeld))
                .persist(StorageLevel.DISK_ONLY());
        try {
            ImageStats stats = ImageStats.of(decoded, SPLITS);
            if (!stats.quarantined().isEmpty() && getHandleInvalid().equals("error")) {
                long bad = stats.quarantined().values().stream().mapToLong(Long::longValue).sum();
                throw new IllegalArgumentException("features column '" + getFeaturesCol() + "': " + bad + " of " + labels.rows()
                        + " rows cannot be used " + stats.quarantined() + ImagePreprocess.examples(decoded)
                        + " (handleInvalid=error; skip or keep trains without them)");
            }
            ShardWriter.Options options = new ShardWriter.Options(getOrDefault(modelName), getBatchSize(), true,
                    lineage(input, stats.digest()));
            Manifest existing = ShardWriter.completeManifest(shards, conf);
            if (existing != null && ShardWriter.completeFor(shards, List.of(), options, conf) != null) {
                LOG.info("{} holds the shards of these rows and settings: not written again", shards);
                return;
            }
            if (resumed != null && existing != null) {
                Map<String, String> now = new LinkedHashMap<>(options.lineage());
                now.put("batchSize", Integer.toString(getBatchSize()));
                List<String> differ = now.keySet().stream().filter(k -> !now.get(k).equals(existing.lineage().get(k))).toList();
                throw new IllegalArgumentException(shards + ": the checkpoints in " + resumed.runDir() + " were trained on shards of "
                        + "other " + String.join(", ", differ) + " than this fit's; resume with the rows and settings of the "
                        + "interrupted fit, or delete " + resumed.runDir() + " to start again");
            }
            if (!stats.quarantined().isEmpty()) {
                LOG.warn("{} of {} rows left out of training ({}): {}", stats.quarantined().values().stream().mapToLong(Long::longValue)
                        .sum(), labels.rows(), stats.quarantined(), run + "/quarantine");
                ImagePreprocess.writeQuarantine(spark, decoded, run + "/quarantine");
            }
            ShardWriter.write(spark, decoded, stats, new Manifest.Shape(input.channels(), input.height(), input.width()), classes,
                    List.of(), shards, options);
        } finally {
            decoded.unpersist(false);
        }
    }

    /** One row as a decoded image of the train or validation split, or a quarantined one with the decoder's reason. */
    private static DecodedImage image(Row row, long n, FeatureColumn features, ImageDecoder decoder, List<String> classes,
                                      long firstHeld) {
        String path = features.path(row, n);
        String key = String.format("%012d", n);
        String label = classes.get((int) row.getDouble(1));
        String split = n < firstHeld ? "train" : "validation";
        try {
            return new DecodedImage(path, key, label, split, features.pixels(row, decoder), features.bytes(row), null, null);
        } catch (BadImage bad) {
            return new DecodedImage(path, key, label, split, null, features.bytes(row), bad.reason().code(), bad.getMessage());
        }
    }

    /** The class names in index order, and the rows. */
    private record Labels(List<String> classes, long rows) {
    }

    /**
     * Checks the labels in one pass before anything is decoded: rows exist, every label is a class index, and indices
     * stay below the classes the column's nominal attribute names. Class names are that attribute's values, else
     * "0", "1", ... up to the largest label.
     */
    private Labels labels(Dataset<Row> rows, StructField labelField) {
        String name = getLabelCol();
        Column label = col(name);
        Row r = rows.agg(count(lit(1)), max(label), sum(when(label.isNull().or(isnan(label)).or(label.lt(0))
                .or(label.notEqual(floor(label))), 1).otherwise(0))).first();
        long n = r.getLong(0);
        if (n == 0) {
            throw new IllegalArgumentException("CnnClassifier: the DataFrame has no rows (0 rows) to train on");
        }
        long invalid = r.getLong(2);
        if (invalid > 0) {
            throw new IllegalArgumentException("label column '" + name + "': " + invalid + " of " + n
                    + " rows are not class indices 0, 1, ... (null, NaN, negative or fractional)");
        }
        int largest = (int) r.getDouble(1);
        List<String> classes = new ArrayList<>();
        if (Attribute.fromStructField(labelField) instanceof NominalAttribute nominal && nominal.values().isDefined()) {
            classes.addAll(List.of(nominal.values().get()));
            if (largest >= classes.size()) {
                throw new IllegalArgumentException("label column '" + name + "' holds label " + largest + " but its attribute names "
                        + classes.size() + " classes");
            }
        } else {
            for (int c = 0; c <= largest; c++) {
                classes.add(Integer.toString(c));
            }
        }
        if (classes.size() < 2) {
            throw new IllegalArgumentException("label column '" + name + "': one class only (" + classes + "); a classifier needs two or more");
        }
        return new Labels(List.copyOf(classes), n);
    }

    /** What the shards were made from: the rows ({@link ImageStats#digest}) and the settings that shape them. */
    private Map<String, String> lineage(ModelZoo.Input input, String rows) {
        Map<String, String> lineage = new LinkedHashMap<>();
        lineage.put("job", "spark-ml");
        lineage.put("rows", rows);
        lineage.put("featuresCol", getFeaturesCol());
        lineage.put("input", input.channels() + "x" + input.height() + "x" + input.width());
        lineage.put("resize", ImageDecoder.RESIZE);
        lineage.put("validationFraction", Double.toString((Double) getOrDefault(validationFraction)));
        lineage.put("handleInvalid", getHandleInvalid());
        return lineage;
    }

    @Override
    public CnnClassifier copy(ParamMap extra) {
        return defaultCopy(extra);
    }

    public static MLReader<CnnClassifier> read() {
        return new DefaultParamsReader<>();
    }

    public static CnnClassifier load(String path) {
        return read().load(path);
    }
}
