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
        var conf = spark.sparkContext().hadoopConfiguration();
        Manifest manifest = Manifest.read(shardDir, conf);
        ModelStore store = new ModelStore(storeUri, conf);
        String v = version != null ? version : store.nextVersion(name);
        if (store.versionNames(name).contains(v)) {
            throw new sparkconv.SparkconvException(store.modelDir(name) + "/" + v + ": the store already holds " + name + " " + v);
        }
        ModelZoo.Input input = new ModelZoo.Input(manifest.shape().channels(), manifest.shape().height(), manifest.shape().width());
        MultiLayerConfiguration modelConf = ModelZoo.build(options.model(), input, manifest.classes().size(), options.hyper());
        MultiLayerNetwork net = new MultiLayerNetwork(modelConf);
        net.init();

        JavaSparkContext jsc = SparkSessions.javaContext(spark);
        long start = System.nanoTime();
        SparkTrainer.Result trained = new SparkTrainer(jsc, progress).train(net, shardDir, manifest, options);
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
        metadata.put("training", Map.of("master", "parameter-averaging", "workers", trained.workers(), "epochs", options.epochs(),
                "averagingFrequency", options.averagingFrequency(), "batchSizePerWorker", manifest.batchSize(),
                "prefetch", options.prefetch(), "seconds", seconds, "sparkMaster", spark.sparkContext().master()));
        metadata.put("data", Map.of("shards", sparkconv.spark.Fs.uri(shardDir), "manifest", manifest));
        metadata.put("versions", Versions.all());
        metadata.put("modelConfig", new ObjectMapper().convertValue(parse(modelConf.toJson()), Map.class));

        Map<String, Object> metrics = new LinkedHashMap<>();
        metrics.put("test", test);
        metrics.put("epochs", trained.epochs());
        if (trained.trainingStats() != null) {
            metrics.put("sparkTrainingStats", trained.trainingStats());
        }
        ModelStore.Version published = store.publish(name, v, trained.network(), metadata, metrics);
        return new Outcome(published, trained.network(), test, trained.epochs(), seconds);
    }

    private static Object parse(String json) {
        try {
            return new ObjectMapper().readValue(json, Map.class);
        } catch (Exception e) {
            return json;
        }
    }
}
