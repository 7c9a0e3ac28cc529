package sparkconv.cli;

import sparkconv.shards.Manifest;
import org.apache.hadoop.conf.Configuration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import sparkconv.SparkconvException;
import sparkconv.models.ModelZoo;
import sparkconv.report.TrainingReport;
import sparkconv.store.ModelStore;
import sparkconv.train.SegmentationRun;
import sparkconv.train.TrainOptions;

@Command(name = "segment-train", description = "Train segmentation graphs (fcn, unet) on mosaic shards with SparkComputationGraph and parameter "
                + "averaging, evaluate pixel accuracy, per-class IoU, mIoU and boundary IoU on the test split, store each "
                + "as a version; with several models (--model fcn,unet) print them side by side.",
        footer = {"", "Defaults differ from train (segment-train.* in conf/defaults.properties): --model fcn,unet --updater adam "
                + "--lr 0.003, because the per-pixel loss is summed over the image.",
                "", "Example:", "  sparkconv segment-train --shards out/mosaics --store out/store --model fcn,unet --epochs 3"})
final class SegmentTrainCommand implements Callable<Integer>, JobCommand<List<TrainOptions>> {
    @picocli.CommandLine.Mixin
    HelpOption helpOption;

    @Option(names = "--shards", required = true, description = "mosaic shard directory written by segment-preprocess")
    String shards;

    @Option(names = "--store", required = true, description = "model store root (any Hadoop URI)")
    String store;

    @Mixin
    TrainingFlags training;

    @Mixin
    SparkOptions sparkOptions;

    /** One training run per model of {@code --model a,b}. */
    @Override
    public List<TrainOptions> params() {
        TrainOptions base = training.toTrainOptions();
        List<TrainOptions> runs = new ArrayList<>();
        for (String model : training.model.split(",")) {
            if (!ModelZoo.isGraph(model.trim())) {
                throw new SparkconvException("--model '" + model + "' is not a segmentation model (choose from " + ModelZoo.GRAPHS + ")");
            }
            runs.add(base.withModel(model.trim()));
        }
        return runs;
    }

    /** The shard directory is one (its manifest reads). */
    @Override
    public void checkInputs(List<TrainOptions> params, Configuration conf) {
        Manifest.read(shards, conf);
    }

    @Override
    public java.util.Map<String, String> sparkSettings() {
        return training.sparkSettings();
    }

    @Override
    public Integer call() {
        List<TrainOptions> runs = params();
        SparkSession spark = sparkOptions.session("segment-train");
        List<SegmentationRun.Outcome> outcomes = new ArrayList<>();
        for (TrainOptions o : runs) {
            SegmentationRun.Outcome r = SegmentationRun.run(spark, shards, o, store, "mosaic-" + o.model(), null, System.out::println);
            System.out.print(r.test().summary());
            var conf = spark.sparkContext().hadoopConfiguration();
            System.out.println("report: " + TrainingReport.write(new ModelStore(store, conf), conf, r.version().name(), r.version().version()));
            outcomes.add(r);
        }
        System.out.printf("%-8s %8s %7s %9s %7s %9s %9s %8s%n", "model", "params", "pixel", "mIoU", "fg mIoU", "bnd IoU",
                "fg bnd", "seconds");
        for (SegmentationRun.Outcome r : outcomes) {
            System.out.printf("%-8s %8d %7.4f %9.4f %7.4f %9.4f %9.4f %8.0f   (%s %s)%n", r.version().metadata().get("model"), r.params(), r.test().pixelAccuracy(),
                    r.test().meanIoU(), r.test().foregroundMeanIoU(), r.test().meanBoundaryIoU(),
                    r.test().foregroundMeanBoundaryIoU(), r.seconds(), r.version().name(), r.version().version());
        }
        return 0;
    }
}
