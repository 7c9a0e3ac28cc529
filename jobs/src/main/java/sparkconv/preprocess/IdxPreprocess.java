package sparkconv.preprocess;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.spark.sql.SparkSession;

import sparkconv.SparkconvException;
import sparkconv.data.IdxDataset;
import sparkconv.data.IdxReader;
import sparkconv.data.ImageSet;
import sparkconv.shards.ShardWriter;

/** IDX datasets (Fashion-MNIST, MNIST) into train / validation / test shards. */
public final class IdxPreprocess {
    /** The default dataset name of IDX data. */
    public static final String FASHION_MNIST = "fashion-mnist";

    private IdxPreprocess() {
    }

    /** The class names of a known IDX dataset. */
    public static List<String> classes(String dataset) {
        return switch (dataset) {
            case FASHION_MNIST -> IdxDataset.FASHION_CLASSES;
            case "mnist" -> IdxDataset.DIGIT_CLASSES;
            default -> throw new SparkconvException("unknown --dataset '" + dataset + "' (fashion-mnist or mnist)");
        };
    }

    /** A directory of the four IDX files: see {@link #idx(SparkSession, IdxReader, String, List, String, int, int, int, PairSplit, boolean)}. */
    public static ShardWriter.Result idx(SparkSession spark, String dataDir, String dataset, List<String> classNames,
                                         String out, int batchSize, int validation, int limit, boolean overwrite) {
        return idx(spark, new IdxReader(dataDir, null), dataset, classNames, out, batchSize, validation, limit,
                new PairSplit(0.1, 0.1), overwrite);
    }

    /**
     * How a lone images + labels pair (no test file) is cut, in file order: the last {@code test} share is the test
     * split, the {@code validation} share before it the validation split.
     */
    public record PairSplit(double validation, double test) {
        public PairSplit {
            if (validation < 0 || test < 0 || validation + test >= 1) {
                throw new SparkconvException("validation and test fractions must be >= 0 and leave a training share, got "
                        + validation + " and " + test);
            }
        }
    }

    /**
     * @param validation images taken from the end of the training file as the validation split (a directory's data)
     * @param limit      if positive, at most this many training images (and test images) are used, for quick runs
     * @param pairSplit  how a lone pair is split (unused for a directory)
     */
    public static ShardWriter.Result idx(SparkSession spark, IdxReader reader, String dataset, List<String> classNames,
                                         String out, int batchSize, int validation, int limit, PairSplit pairSplit, boolean overwrite) {
        IdxDataset.TrainTest data = reader.load(classNames, spark.sparkContext().hadoopConfiguration());
        ImageSet train = data.train();
        if (limit > 0) {
            train = train.slice(0, Math.min(limit, train.size()));
        }
        Map<String, ImageSet> splits = new LinkedHashMap<>();
        Map<String, String> lineage = new LinkedHashMap<>();
        lineage.put("job", "preprocess");
        lineage.put("format", "idx");
        if (data.test() == null) {
            int test = (int) Math.round(train.size() * pairSplit.test());
            int held = test + (int) Math.round(train.size() * pairSplit.validation());
            if (held >= train.size()) {
                throw new SparkconvException(reader.source() + ": " + train.size() + " images leave none for training after "
                        + held + " for validation and test");
            }
            splits.put("train", train.slice(0, train.size() - held));
            splits.put("validation", train.slice(train.size() - held, train.size() - test));
            splits.put("test", train.slice(train.size() - test, train.size()));
            lineage.put("validationFraction", Double.toString(pairSplit.validation()));
            lineage.put("testFraction", Double.toString(pairSplit.test()));
        } else {
            ImageSet test = data.test();
            if (limit > 0) {
                test = test.slice(0, Math.min(Math.max(limit / 6, 1), test.size()));
            }
            if (validation < 0 || validation >= train.size()) {
                throw new SparkconvException("--validation must be between 0 and " + (train.size() - 1) + ", got " + validation);
            }
            splits.put("train", train.slice(0, train.size() - validation));
            splits.put("validation", train.slice(train.size() - validation, train.size()));
            splits.put("test", test);
            lineage.put("validation", Integer.toString(validation));
        }
        lineage.put("limit", Integer.toString(limit));
        return ShardWriter.write(spark, splits, out, new ShardWriter.Options(dataset, batchSize, overwrite, lineage));
    }
}
