package sparkconv.train;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;

import com.fasterxml.jackson.databind.ObjectMapper;

import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.api.Model;

import sparkconv.SparkconvException;
import sparkconv.models.ModelZoo;
import sparkconv.shards.Manifest;
import sparkconv.spark.Fs;
import sparkconv.spark.SparkSessions;
import sparkconv.spark.Versions;
import sparkconv.spark.WorkerThreads;
import sparkconv.store.ModelStore;

/**
 * The steps every training run shares around {@link SparkTrainer}'s epoch loop: claim a version in the model store,
 * continue from the run's last checkpoint ({@code --resume}) or start a fresh network, train, evaluate on the test
 * split (when the shards have one), publish the version with its metadata and metrics, and drop the checkpoints. What differs between
 * classification ({@link TrainingRun}) and segmentation ({@link SegmentationRun}) is a {@link Task}.
 */
final class TrainAndPublish {
    private TrainAndPublish() {
    }

    /** What one kind of model brings to the shared steps. */
    interface Task<N extends Model, M> {
        /** Checks that the shards suit this task and configures the model for them. */
        Network<N> configure(String shardDir, Manifest manifest, ModelZoo.Input input);

        /** The network wrapped for Spark under this averaging master. */
        SparkModel wrap(JavaSparkContext jsc, N net, AveragingMaster master, Manifest manifest, boolean collectStats);

        /** The trained network's figures on the test split. */
        M test(JavaSparkContext jsc, N net, String shardDir, Manifest manifest);

        /** Metadata entries of this kind of model, right after {@code created} (none for classification). */
        Map<String, Object> kind();
    }

    /** A configured model: its network type (checkpoints load as it), a fresh network, and its configuration's JSON. */
    record Network<N extends Model>(Class<N> type, Supplier<N> fresh, String configJson) {
    }

    record Done<N extends Model, M>(ModelStore.Version version, N network, M test, List<EpochStats> epochs, double seconds) {
    }

    static <N extends Model, M> Done<N, M> run(SparkSession spark, String shardDir, TrainOptions options, String storeUri,
                                               String name, String version, Consumer<String> progress, Task<N, M> task) {
        ModelStore store = new ModelStore(storeUri, spark.sparkContext().hadoopConfiguration());
        try (ModelStore.VersionClaim claim = store.claimVersion(name, version, options.control().resume())) {
            return run(spark, shardDir, options, store, name, claim.version(), progress, task);
        }
    }

    /** For a caller that already holds the version's claim ({@code v}). */
    static <N extends Model, M> Done<N, M> run(SparkSession spark, String shardDir, TrainOptions options, ModelStore store,
                                                       String name, String v, Consumer<String> progress, Task<N, M> task) {
        var conf = spark.sparkContext().hadoopConfiguration();
        Manifest manifest = Manifest.read(shardDir, conf);
        ModelZoo.Input input = new ModelZoo.Input(manifest.shape().channels(), manifest.shape().height(), manifest.shape().width());
        Network<N> network = task.configure(shardDir, manifest, input);
        Checkpoints checkpoints = Checkpoints.of(store, name, v, conf);
        Checkpoints.State resumeFrom = resumePoint(checkpoints, options, name, v, progress);
        N net;
        if (resumeFrom != null) {
            net = checkpoints.load(resumeFrom.epoch(), network.type());
        } else {
            net = network.fresh().get();
            net.init();
        }

        JavaSparkContext jsc = SparkSessions.javaContext(spark);
        SparkTrainer trainer = new SparkTrainer(jsc, progress);
        long start = System.nanoTime();
        SparkModel model = task.wrap(jsc, net, trainer.master(options, manifest.batchSize()), manifest, options.collectStats());
        SparkTrainer.Trained trained = trainer.loop(model, shardDir, manifest, options, checkpoints, resumeFrom);
        double seconds = (System.nanoTime() - start) / 1e9;
        N result = network.type().cast(trained.network());
        // Shards from a DataFrame (sparkconv.ml) may hold no test split: the user keeps test data apart and evaluates it.
        M test = manifest.splits().containsKey("test") ? task.test(jsc, result, shardDir, manifest) : null;

        Map<String, Object> metadata = new LinkedHashMap<>();
        metadata.put("name", name);
        metadata.put("version", v);
        metadata.put("created", Instant.now().toString());
        metadata.putAll(task.kind());
        metadata.put("model", options.model());
        metadata.put("input", Map.of("channels", input.channels(), "height", input.height(), "width", input.width()));
        metadata.put("classes", manifest.classes());
        metadata.put("normalisation", manifest.normalisation());
        metadata.put("hyperParameters", options.hyper());
        metadata.put("training", trainingMetadata(spark, options, manifest, trainer.workers(options), trained, seconds));
        metadata.put("data", Map.of("shards", Fs.uri(shardDir), "manifest", manifest));
        metadata.put("versions", Versions.all());
        metadata.put("modelConfig", parse(network.configJson()));

        Map<String, Object> metrics = new LinkedHashMap<>();
        if (test != null) {
            metrics.put("test", test);
        }
        metrics.put("epochs", trained.epochs());
        if (trained.trainingStats() != null) {
            metrics.put("sparkTrainingStats", trained.trainingStats());
            metrics.put("timeSplit", trained.timeSplit());
        }
        ModelStore.Version published = store.publish(name, v, result, metadata, metrics);
        checkpoints.delete();
        return new Done<>(published, result, test, trained.epochs(), seconds);
    }

    /**
     * The checkpoint to continue from: the run's last complete one with {@code resume}; none for a fresh run.
     * Checkpoints left by an unfinished run are never silently overwritten: without {@code resume} it is an error.
     */
    static Checkpoints.State resumePoint(Checkpoints checkpoints, TrainOptions options, String name, String version,
                                         Consumer<String> progress) {
        var last = checkpoints.latest();
        if (last.isEmpty()) {
            if (options.control().resume()) {
                progress.accept("no checkpoint of " + name + " " + version + " in " + checkpoints.runDir() + ": starting at epoch 1");
            }
            return null;
        }
        Checkpoints.State state = last.get();
        if (!options.control().resume()) {
            throw new SparkconvException(checkpoints.runDir() + ": an unfinished run of " + name + " " + version
                    + " has checkpoints up to epoch " + state.epoch() + "; pass --resume to continue it, or delete that directory");
        }
        if (state.mismatch(options) != null) {
            throw new SparkconvException(checkpoints.runDir() + ": " + state.mismatch(options));
        }
        return state;
    }

    static Map<String, Object> trainingMetadata(SparkSession spark, TrainOptions options, Manifest manifest, int workers,
                                                SparkTrainer.Trained trained, double seconds) {
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("master", "parameter-averaging");
        t.put("workers", workers);
        t.put("threadsPerWorker", WorkerThreads.perWorker(spark.sparkContext().getConf()));
        t.put("epochs", options.epochs());
        t.put("epochsRun", trained.epochs().size());
        t.put("averagingFrequency", options.averagingFrequency());
        t.put("averagingPolicy", options.policy().toString());
        t.put("batchSizePerWorker", manifest.batchSize());
        t.put("prefetch", options.prefetch());
        t.put("lrSchedule", options.control().schedule().toString());
        t.put("patience", options.control().patience());
        t.put("stopOn", options.control().stopOn());
        t.put("resumedAtEpoch", trained.startEpoch() > 1 ? trained.startEpoch() : null);
        t.put("bestEpoch", trained.bestEpoch() > 0 ? trained.bestEpoch() : null);
        t.put("stoppedEarly", trained.stoppedEarly());
        t.put("seconds", seconds);
        t.put("sparkMaster", spark.sparkContext().master());
        return t;
    }

    /** The configuration as a JSON tree in the metadata (as its text if it does not parse). */
    private static Object parse(String json) {
        try {
            return new ObjectMapper().readValue(json, Map.class);
        } catch (Exception e) {
            return json;
        }
    }
}
