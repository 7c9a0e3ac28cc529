package sparkconv.train;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import com.fasterxml.jackson.databind.ObjectMapper;

import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

import sparkconv.SparkconvException;
import sparkconv.eval.ClassificationMetrics;
import sparkconv.eval.SparkEvaluator;
import sparkconv.models.ModelZoo;
import sparkconv.shards.Manifest;
import sparkconv.spark.SparkSessions;
import sparkconv.spark.Versions;
import sparkconv.store.ModelStore;

/**
 * Train on a shard directory, evaluate on its test split, and publish the version to a model store with
 * its metadata (model config, data manifest, hyper-parameters, versions) and metrics.
 */
public final class TrainingRun {
    private TrainingRun() {
    }

    public record Outcome(ModelStore.Version version, MultiLayerNetwork network, ClassificationMetrics test,
                          List<EpochStats> epochs, double seconds) {
    }

    public static Outcome run(SparkSession spark, String shardDir, TrainOptions options, String storeUri, String name,
                              String version, Consumer<String> progress) {
        ModelStore store = new ModelStore(storeUri, spark.sparkContext().hadoopConfiguration());
        try (ModelStore.VersionClaim claim = store.claimVersion(name, version, options.control().resume())) {
            return run(spark, shardDir, options, store, name, claim.version(), progress);
        }
    }

    private static Outcome run(SparkSession spark, String shardDir, TrainOptions options, ModelStore store, String name,
                               String v, Consumer<String> progress) {
        var conf = spark.sparkContext().hadoopConfiguration();
        String storeUri = store.root();
        Manifest manifest = Manifest.read(shardDir, conf);
        ModelZoo.Input input = new ModelZoo.Input(manifest.shape().channels(), manifest.shape().height(), manifest.shape().width());
        MultiLayerConfiguration modelConf = ModelZoo.build(options.model(), input, manifest.classes().size(), options.hyper());
        Checkpoints checkpoints = new Checkpoints(storeUri, name + "-" + v, conf);
        Checkpoints.State resumeFrom = resumePoint(checkpoints, options, name, v, progress);
        MultiLayerNetwork net;
        if (resumeFrom != null) {
            net = checkpoints.load(resumeFrom.epoch(), MultiLayerNetwork.class);
        } else {
            net = new MultiLayerNetwork(modelConf);
            net.init();
        }

        JavaSparkContext jsc = SparkSessions.javaContext(spark);
        long start = System.nanoTime();
        SparkTrainer.Result trained = new SparkTrainer(jsc, progress).train(net, shardDir, manifest, options,
                checkpoints, resumeFrom);
        double seconds = (System.nanoTime() - start) / 1e9;
        ClassificationMetrics test = SparkEvaluator.evaluate(jsc, trained.network(), shardDir, manifest, "test");

        Map<String, Object> metadata = new LinkedHashMap<>();
        metadata.put("name", name);
        metadata.put("version", v);
        metadata.put("created", Instant.now().toString());
        metadata.put("model", options.model());
        metadata.put("input", Map.of("channels", input.channels(), "height", input.height(), "width", input.width()));
        metadata.put("classes", manifest.classes());
        metadata.put("normalisation", manifest.normalisation());
        metadata.put("hyperParameters", options.hyper());
        metadata.put("training", trainingMetadata(spark, options, manifest, trained.workers(), trained.trained(), seconds));
        metadata.put("data", Map.of("shards", sparkconv.spark.Fs.uri(shardDir), "manifest", manifest));
        metadata.put("versions", Versions.all());
        metadata.put("modelConfig", new ObjectMapper().convertValue(parse(modelConf.toJson()), Map.class));

        Map<String, Object> metrics = new LinkedHashMap<>();
        metrics.put("test", test);
        metrics.put("epochs", trained.epochs());
        if (trained.trainingStats() != null) {
            metrics.put("sparkTrainingStats", trained.trainingStats());
            metrics.put("timeSplit", trained.timeSplit());
        }
        ModelStore.Version published = store.publish(name, v, trained.network(), metadata, metrics);
        checkpoints.delete();
        return new Outcome(published, (MultiLayerNetwork) trained.network(), test, trained.epochs(), seconds);
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
        if (!state.model().equals(options.model()) || state.seed() != options.hyper().seed()) {
            throw new SparkconvException(checkpoints.runDir() + ": the checkpoint is of model " + state.model() + " with seed "
                    + state.seed() + ", not " + options.model() + " with seed " + options.hyper().seed());
        }
        return state;
    }

    static Map<String, Object> trainingMetadata(SparkSession spark, TrainOptions options, Manifest manifest, int workers,
                                                SparkTrainer.Trained trained, double seconds) {
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("master", "parameter-averaging");
        t.put("workers", workers);
        t.put("epochs", options.epochs());
        t.put("epochsRun", trained.epochs().size());
        t.put("averagingFrequency", options.averagingFrequency());
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

    private static Object parse(String json) {
        try {
            return new ObjectMapper().readValue(json, Map.class);
        } catch (Exception e) {
            return json;
        }
    }
}
