package sparkconv.shards;

import java.io.FileNotFoundException;
import java.util.ArrayList;
import java.util.List;

import org.apache.spark.api.java.JavaSparkContext;

import sparkconv.SparkconvException;
import sparkconv.spark.JobDescriptions;

/**
 * Shard files checked against the sha256 their {@link Manifest} records, as a Spark job (each executor reads and hashes
 * its share) before a job uses them: a swapped or corrupted shard is refused in one line that names it, before
 * anything is trained or evaluated. It costs a read of every checked shard (measured in docs/security.md), which is
 * why {@code evaluate} checks the split it evaluates and {@code train} checks all splits only with {@code --verify}.
 */
public final class ShardChecks {
    private ShardChecks() {
    }

    /** One shard to check: its URI and recorded sha256. */
    private record Expected(String uri, String sha256) implements java.io.Serializable {
    }

    /** Checks every shard of {@code splits}; returns how many were checked. */
    public static int verify(JavaSparkContext jsc, String dir, Manifest manifest, List<String> splits) {
        List<Expected> shards = new ArrayList<>();
        for (String split : splits) {
            List<String> uris = manifest.shardUris(dir, split);
            List<Manifest.Shard> recorded = manifest.splits().get(split).shards();
            for (int i = 0; i < uris.size(); i++) {
                shards.add(new Expected(uris.get(i), recorded.get(i).sha256()));
            }
        }
        if (shards.isEmpty()) {
            return 0;
        }
        int slices = Math.max(1, Math.min(shards.size(), jsc.defaultParallelism() * 2));
        List<String> bad = JobDescriptions.step(jsc.sc(), "check the sha256 of " + shards.size() + " shards of " + String.join(", ", splits),
                () -> jsc.parallelize(shards, slices).map(ShardChecks::problem).filter(p -> !p.isEmpty()).collect());
        if (!bad.isEmpty()) {
            throw new SparkconvException(bad.get(0) + (bad.size() > 1 ? " (and " + (bad.size() - 1) + " more shards)" : "")
                    + "; refusing to use the shards");
        }
        return shards.size();
    }

    /** What is wrong with a shard ("" when nothing). */
    private static String problem(Expected e) throws java.io.IOException {
        try {
            String actual = ShardFiles.sha256(e.uri());
            return actual.equals(e.sha256()) ? ""
                    : e.uri() + ": sha256 " + actual + " is not the " + e.sha256() + " " + Manifest.FILE + " records (the shard changed after it was written)";
        } catch (FileNotFoundException missing) {
            return e.uri() + ": missing, but " + Manifest.FILE + " lists it";
        }
    }
}
