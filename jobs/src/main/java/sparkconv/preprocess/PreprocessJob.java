package sparkconv.preprocess;

import java.util.Map;

import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;

import sparkconv.SparkconvException;
import sparkconv.data.IdxReader;
import sparkconv.data.ImageDecoder;
import sparkconv.data.ImageReader;
import sparkconv.models.ModelZoo;
import sparkconv.shards.ShardWriter;
import sparkconv.spark.Fs;

/**
 * The preprocess job: any image source into shards. The reader is chosen once from the source: IDX data is read whole
 * ({@link IdxPreprocess}), every other format image by image with quarantine ({@link ImagePreprocess}).
 */
public final class PreprocessJob {
    private PreprocessJob() {
    }

    /**
     * @param data       the IDX directory read when no {@code source} is given (the quickstart's input)
     * @param source     any image source; its format is detected unless {@code format} names it
     * @param idxLabels  the labels file of an IDX images file given as source (null: the one beside it)
     * @param dataset    the dataset's name (null: fashion-mnist for IDX, else the source's name)
     * @param validation IDX directory: training images held out for validation
     * @param limit      IDX: at most this many training images, if positive
     * @param size       images: HxW (null: the reader's default)
     * @param channels   images: 1 or 3 (null: the reader's default)
     */
    public record Params(String data, String source, String idxLabels, String format, String dataset, String out, int batch,
                         int validation, int limit, String size, Integer channels, double validationFraction,
                         double testFraction, long maxPixels, long maxFileBytes, boolean overwrite) {
        public Params {
            new IdxPreprocess.PairSplit(validationFraction, testFraction); // images are cut by the same fractions
            if (source != null && !format.equalsIgnoreCase("auto")) {
                ImageReader.Format.parse(format);
            }
            if (source == null) {
                IdxPreprocess.classes(dataset != null ? dataset : IdxPreprocess.FASHION_MNIST);
            }
        }

        String input() {
            return source != null ? source : data;
        }
    }

    /** The shards, and for images read one by one what was quarantined (null uri for IDX data, which is read whole). */
    public record Result(ShardWriter.Result shards, Map<String, Long> quarantined, String quarantineUri) {
    }

    /** The input, checked without Spark: the IDX directory or the image source exists (a glob matches something). */
    public static void check(Params p, Configuration conf) {
        if (!Fs.matches(p.input(), conf)) {
            throw new SparkconvException(p.input() + (p.source() == null
                    ? ": data directory does not exist (install Debian's dataset-fashion-mnist or pass --data DIR)"
                    : ": no such file or directory (--source)"));
        }
    }

    public static Result run(SparkSession spark, Params p) {
        check(p, spark.sparkContext().hadoopConfiguration());
        // --data is the IDX directory (the quickstart's path); --source is detected unless --format says otherwise
        ImageReader reader = p.source() == null ? new IdxReader(p.data(), null)
                : ImageReader.open(p.source(), p.format(), spark.sparkContext().hadoopConfiguration());
        if (reader instanceof IdxReader idx) {
            String name = p.dataset() != null ? p.dataset() : IdxPreprocess.FASHION_MNIST;
            ShardWriter.Result shards = IdxPreprocess.idx(spark, new IdxReader(idx.source(), p.idxLabels()), name,
                    IdxPreprocess.classes(name), p.out(), p.batch(), p.validation(), p.limit(),
                    new IdxPreprocess.PairSplit(p.validationFraction(), p.testFraction()), p.overwrite());
            return new Result(shards, Map.of(), null);
        }
        if (p.idxLabels() != null) {
            throw new SparkconvException("--idx-labels goes with an IDX images file; " + p.input() + " is " + reader.format().code() + " data");
        }
        int[] defaults = ((ImageReader.Records) reader).defaultShape();
        ModelZoo.Input shape = ModelZoo.Input.parse((p.size() != null ? p.size() : defaults[1] + "x" + defaults[2]) + "x"
                + (p.channels() != null ? p.channels() : defaults[0]));
        ImageDecoder decoder = new ImageDecoder(shape.channels(), shape.height(), shape.width(), p.maxPixels());
        String name = p.dataset() != null ? p.dataset() : Fs.path(p.input()).getName();
        ImagePreprocess.Result r = ImagePreprocess.run(spark, new ImagePreprocess.Request(p.input(), reader.format(), name, decoder,
                p.maxFileBytes(), p.validationFraction(), p.testFraction(), p.batch(), p.overwrite()), p.out());
        return new Result(r.shards(), r.quarantined(), r.quarantineUri());
    }
}
