package sparkconv.cli;

import java.util.List;
import java.util.concurrent.Callable;

import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import sparkconv.charts.ChartWindows;
import sparkconv.eval.NiftyEvaluation;
import sparkconv.report.TrainingReport;
import sparkconv.shards.Manifest;
import sparkconv.shards.ShardChecks;
import sparkconv.spark.SparkSessions;
import sparkconv.store.ModelStore;
import sparkconv.train.TrainOptions;
import sparkconv.train.TrainingRun;

@Command(name = "train", description = "Train a model from the zoo on a shard directory with Spark parameter averaging (fitPaths), "
                + "evaluate it on the test split and publish it as a new version in the model store.")
final class TrainCommand implements Callable<Integer>, JobCommand<TrainOptions> {
    @picocli.CommandLine.Mixin
    HelpOption helpOption;

    @Option(names = "--shards", required = true, description = "shard directory written by preprocess")
    String shards;

    @Option(names = "--store", required = true, description = "model store root (any Hadoop URI)")
    String store;

    @Option(names = "--name", description = "model name in the store (default: <dataset>-<model>)")
    String name;

    @Option(names = "--version", description = "version to publish (default: next free vN)")
    String version;

    @Option(names = "--verify", description = "check every shard against the sha256 its manifest records before training "
            + "(one read of the data; a changed shard is refused)")
    boolean verify;

    @Mixin
    TrainingFlags training;

    @Mixin
    SparkOptions sparkOptions;

    @Override
    public TrainOptions params() {
        return training.toTrainOptions();
    }

    /**
     * The shard directory is one (its manifest reads), and the model at the shards' batch fits the memory the run is
     * configured with (MemorySizing.check: this JVM's in local mode, the executors' on a cluster).
     */
    @Override
    public void checkInputs(TrainOptions params, org.apache.hadoop.conf.Configuration conf) {
        Manifest manifest = Manifest.read(shards, conf);
        if (sparkconv.models.ModelZoo.isGraph(params.model())) {
            return;
        }
        Manifest.Shape shape = manifest.shape();
        var input = new sparkconv.models.ModelZoo.Input(shape.channels(), shape.height(), shape.width());
        String updater = params.hyper().updater();
        sparkconv.train.WorkerMemory.Shape memory;
        try {
            memory = MemorySizing.shape(params.model(), input, manifest.classes().size(), updater);
        } catch (RuntimeException e) {
            return; // a model that does not fit the shards' shape: the job says so in its own words
        }
        MemorySizing.check(params.model(), memory, updater,
                manifest.batchSize(), params.policy(), params.workers(), params.prefetch(), sparkOptions.sparkConf(), Runtime.getRuntime().maxMemory(),
                System.getProperty("org.bytedeco.javacpp.maxphysicalbytes"),
                ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
                        .getTotalMemorySize());
    }

    @Override
    public java.util.Map<String, String> sparkSettings() {
        return training.sparkSettings();
    }

    @Override
    public Integer call() {
        SparkSession spark = sparkOptions.session("train");
        if (verify) {
            long start = System.nanoTime();
            Manifest manifest = Manifest.read(shards, spark.sparkContext().hadoopConfiguration());
            int n = ShardChecks.verify(SparkSessions.javaContext(spark), shards, manifest, List.copyOf(manifest.splits().keySet()));
            System.out.printf("checked the sha256 of %d shards in %.1f s%n", n, (System.nanoTime() - start) / 1e9);
        }
        TrainingRun.Outcome o = run(spark, shards, store, name, version, training);
        System.out.printf("test accuracy %.4f; model %s %s stored at %s%n", o.test().accuracy(), o.version().name(),
                o.version().version(), o.version().uri());
        return 0;
    }

    static TrainingRun.Outcome run(SparkSession spark, String shards, String store, String name, String version,
                                   TrainingFlags training) {
        var conf = spark.sparkContext().hadoopConfiguration();
        Manifest manifest = Manifest.read(shards, conf);
        String modelName = name != null ? name : manifest.dataset() + "-" + training.model;
        TrainOptions options = training.toTrainOptions();
        System.out.printf("training %s: %s, schedule %s, epochs up to %d, patience %d on validation %s%n", options.model(),
                options.hyper().describe(), options.control().schedule(), options.epochs(), options.control().patience(), options.control().stopOn());
        TrainingRun.Outcome o = TrainingRun.run(spark, shards, options, store, modelName, version, System.out::println);
        System.out.print(o.test().summary());
        ModelStore models = new ModelStore(store, conf);
        if (ChartWindows.Spec.inLineage(manifest.lineage())) {
            // A chart-window model's report shows what a researcher checks first: its trading figures beside the baselines.
            NiftyEvaluation.Report trading = NiftyEvaluation.ofVersion(spark, shards, models, models.get(o.version().name(), o.version().version()));
            System.out.print(trading.table());
        }
        System.out.println("report: " + TrainingReport.write(models, conf, o.version().name(), o.version().version()));
        return o;
    }
}
