package sparkconv.eval;

import java.util.List;

import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;

import sparkconv.SparkconvException;
import sparkconv.shards.Manifest;
import sparkconv.shards.ShardChecks;
import sparkconv.spark.Fs;
import sparkconv.spark.SparkSessions;
import sparkconv.store.ModelStore;

/**
 * The evaluate job: a stored model version on one split of a shard directory, its metrics optionally written as JSON.
 * The split's shards are checked against their manifest and the model against its metadata before anything is
 * evaluated.
 */
public final class EvaluateJob {
    private EvaluateJob() {
    }

    /**
     * @param version a version of {@code name}, or latest / best
     * @param out     where the metrics JSON goes (null: not written)
     */
    public record Params(String store, String name, String version, String shards, String split, String out) {
        public Params {
            if (!SPLITS.contains(split)) {
                throw new SparkconvException("--split must be one of " + String.join(", ", SPLITS) + ", got '" + split + "'");
            }
        }
    }

    /** The splits a shard directory can hold (Manifest). */
    private static final List<String> SPLITS = List.of("train", "validation", "test");

    /** The version evaluated (resolved from latest / best) and its metrics. */
    public record Result(ModelStore.Version version, ClassificationMetrics metrics) {
    }

    /** What the job reads before it evaluates: the shards' manifest and the model version, which must fit them. */
    record Inputs(Manifest manifest, ModelStore.Version version) {
    }

    /** The inputs, checked without Spark: the shard directory and the model version exist, and the model fits the shards. */
    public static Inputs check(Params p, Configuration conf) {
        Manifest manifest = Manifest.read(p.shards(), conf);
        ModelStore.Version v = new ModelStore(p.store(), conf).get(p.name(), p.version());
        v.requireFits(Fs.uri(p.shards()), manifest.shape().channels(), manifest.shape().height(), manifest.shape().width(),
                manifest.classes().size());
        return new Inputs(manifest, v);
    }

    public static Result run(SparkSession spark, Params p) {
        var conf = spark.sparkContext().hadoopConfiguration();
        ModelStore modelStore = new ModelStore(p.store(), conf);
        Inputs in = check(p, conf);
        Manifest manifest = in.manifest();
        ModelStore.Version v = in.version();
        ShardChecks.verify(SparkSessions.javaContext(spark), p.shards(), manifest, List.of(p.split()));
        var net = modelStore.load(p.name(), v.version());
        ClassificationMetrics m = SparkEvaluator.evaluate(SparkSessions.javaContext(spark), net, p.shards(), manifest, p.split());
        if (p.out() != null) {
            Fs.writeString(Fs.path(p.out()), m.toJson(), conf);
        }
        return new Result(v, m);
    }
}
