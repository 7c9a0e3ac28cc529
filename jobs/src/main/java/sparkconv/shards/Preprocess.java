package sparkconv.shards;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.spark.sql.SparkSession;

import sparkconv.SparkconvException;
import sparkconv.data.IdxDataset;
import sparkconv.data.ImageSet;

/** IDX datasets (Fashion-MNIST, MNIST) into train / validation / test shards. */
public final class Preprocess {
    private Preprocess() {
    }

    /**
     * @param validation images taken from the end of the training file as the validation split
     * @param limit      if positive, at most this many training images (and test images) are used, for quick runs
     */
    public static ShardWriter.Result idx(SparkSession spark, String dataDir, String dataset, List<String> classNames,
                                         String out, int batchSize, int validation, int limit, boolean overwrite) {
        IdxDataset.TrainTest data = IdxDataset.load(dataDir, classNames, spark.sparkContext().hadoopConfiguration());
        ImageSet train = data.train();
        ImageSet test = data.test();
        if (limit > 0) {
            train = train.slice(0, Math.min(limit, train.size()));
            test = test.slice(0, Math.min(Math.max(limit / 6, 1), test.size()));
        }
        if (validation < 0 || validation >= train.size()) {
            throw new SparkconvException("--validation must be between 0 and " + (train.size() - 1) + ", got " + validation);
        }
        Map<String, ImageSet> splits = new LinkedHashMap<>();
        splits.put("train", train.slice(0, train.size() - validation));
        splits.put("validation", train.slice(train.size() - validation, train.size()));
        splits.put("test", test);
        Map<String, String> lineage = new LinkedHashMap<>();
        lineage.put("job", "preprocess");
        lineage.put("format", "idx");
        lineage.put("validation", Integer.toString(validation));
        lineage.put("limit", Integer.toString(limit));
        return ShardWriter.write(spark, splits, out, new ShardWriter.Options(dataset, batchSize, overwrite, lineage));
    }
}
