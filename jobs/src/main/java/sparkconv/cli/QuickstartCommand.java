package sparkconv.cli;

import java.util.concurrent.Callable;

import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import sparkconv.data.IdxDataset;
import sparkconv.preprocess.IdxPreprocess;
import sparkconv.spark.Fs;
import sparkconv.train.TrainOptions;
import sparkconv.train.TrainingRun;

@Command(name = "quickstart", description = "The whole pipeline on Fashion-MNIST: preprocess to shards, train with parameter averaging, "
                + "evaluate on the test split, store a versioned model. Local Spark and the local file system by default.")
final class QuickstartCommand implements Callable<Integer>, JobCommand<TrainOptions> {
    @picocli.CommandLine.Mixin
    HelpOption helpOption;

    @Option(names = "--out", defaultValue = "sparkconv-out",
            description = "output root (any Hadoop URI): shards/ and store/ go under it (default ${DEFAULT-VALUE})")
    String out;

    @Option(names = "--data", defaultValue = IdxDataset.DEBIAN_FASHION_MNIST,
            description = "Fashion-MNIST IDX directory (default ${DEFAULT-VALUE}, from Debian's dataset-fashion-mnist)")
    String data;

    @Option(names = "--limit", defaultValue = "0", description = "use only the first N training images (0 = all 60,000)")
    int limit;

    @Option(names = "--validation", description = "training images held out for validation (default ${DEFAULT-VALUE})")
    int validation;

    @Option(names = "--batch", description = "minibatch per worker (default ${DEFAULT-VALUE})")
    int batch;

    @Mixin
    TrainingFlags training;

    @Mixin
    SparkOptions sparkOptions;

    @Override
    public TrainOptions params() {
        return training.toTrainOptions();
    }

    @Override
    public java.util.Map<String, String> sparkSettings() {
        return training.sparkSettings();
    }

    @Override
    public Integer call() {
        long start = System.nanoTime();
        SparkSession spark = sparkOptions.session("quickstart");
        String root = Fs.uri(out);
        String shards = root + "/shards/fashion-mnist" + (limit > 0 ? "-" + limit : "");
        String store = root + "/store";
        int heldOut = limit > 0 ? Math.min(validation, limit / 10) : validation;

        System.out.println("[1/3] preprocess " + data + " -> " + shards);
        Jobs.print(IdxPreprocess.idx(spark, data, IdxPreprocess.FASHION_MNIST, IdxDataset.FASHION_CLASSES, shards, batch, heldOut, limit, false));
        System.out.println("[2/3] train " + training.model + " with parameter averaging on " + spark.sparkContext().master());
        TrainingRun.Outcome o = TrainCommand.run(spark, shards, store, null, null, training);
        System.out.println("[3/3] stored");
        System.out.printf("quickstart: test accuracy %.4f (epochs %d, %.0f s in all); model %s %s at %s%n",
                o.test().accuracy(), training.epochs, (System.nanoTime() - start) / 1e9, o.version().name(),
                o.version().version(), o.version().uri());
        return 0;
    }
}
