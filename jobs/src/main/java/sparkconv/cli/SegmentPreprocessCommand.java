package sparkconv.cli;

import org.apache.hadoop.conf.Configuration;
import java.util.concurrent.Callable;

import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import sparkconv.data.IdxDataset;
import sparkconv.preprocess.Mosaics;

@Command(name = "segment-preprocess", description = "Build a segmentation task from Fashion-MNIST: 2x2 mosaics (56x56) of random items with per-pixel "
                + "masks (background + 10 classes), written as shards by a Spark job.",
        footer = {"", "Example:", "  sparkconv segment-preprocess --out out/mosaics --train 4000 --validation 500 --test 1000"})
final class SegmentPreprocessCommand implements Callable<Integer>, JobCommand<Mosaics.Params> {
    @picocli.CommandLine.Mixin
    HelpOption helpOption;

    @Option(names = "--data", defaultValue = IdxDataset.DEBIAN_FASHION_MNIST, description = "Fashion-MNIST IDX directory (default ${DEFAULT-VALUE})")
    String data;

    @Option(names = "--out", required = true, description = "shard directory to write (any Hadoop URI)")
    String out;

    @Option(names = "--train", defaultValue = "8000", description = "training mosaics (default ${DEFAULT-VALUE})")
    int train;

    @Option(names = "--validation", defaultValue = "1000", description = "validation mosaics, from training items (default ${DEFAULT-VALUE})")
    int validation;

    @Option(names = "--test", defaultValue = "1000", description = "test mosaics, from the test items (default ${DEFAULT-VALUE})")
    int test;

    @Option(names = "--batch", defaultValue = "32", description = "mosaics per shard / minibatch (default ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--seed", defaultValue = "42", description = "seed for item choice and placement (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--overwrite", description = "replace an existing shard directory made from other inputs")
    boolean overwrite;

    @Mixin
    SparkOptions sparkOptions;

    @Override
    public Mosaics.Params params() {
        return new Mosaics.Params(train, validation, test, batch, seed);
    }

    @Override
    public void checkInputs(Mosaics.Params params, Configuration conf) {
        IdxDataset.checkDirectory(data, conf);
    }

    @Override
    public Integer call() {
        Mosaics.Params p = params();
        SparkSession spark = sparkOptions.session("segment-preprocess");
        var items = IdxDataset.load(data, IdxDataset.FASHION_CLASSES, spark.sparkContext().hadoopConfiguration());
        Jobs.print(Mosaics.write(spark, items.train(), items.test(), p.sizes(), out, p.batchSize(), p.seed(), overwrite));
        return 0;
    }
}
