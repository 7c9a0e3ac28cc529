package sparkconv.shards;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;

import sparkconv.SparkconvException;
import sparkconv.data.ImageSet;
import sparkconv.spark.Fs;

/**
 * {@code manifest.json} of a shard directory: the contract between preprocessing (data, charts) and
 * training / scoring. Shard files hold one serialized DL4J {@code DataSet} minibatch each, as dl4j-spark's
 * {@code fitPaths} expects. Readers reject a newer {@link #VERSION} with a clear message. A field added as optional
 * (absent in older manifests, ignored by older readers, as {@code quarantined}) keeps the version; a change older
 * readers would misread bumps it.
 *
 * @param quarantined inputs left out by reason, for jobs that quarantine (image preprocess: every reason seen, possibly
 *                    none); absent (null) for jobs that do not, and in manifests written before it was added
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record Manifest(String format, int version, String dataset, Shape shape, List<String> classes, int batchSize,
                       Normalisation normalisation, Map<String, Split> splits, List<ImageSet.SourceFile> sources,
                       Map<String, String> lineage,
                       @JsonInclude(JsonInclude.Include.NON_NULL) Map<String, Long> quarantined) implements Serializable {

    public static final String FORMAT = "sparkconv-shards";
    public static final int VERSION = 1;
    public static final String FILE = "manifest.json";
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);

    /** A manifest of a job that quarantines nothing. */
    public Manifest(String format, int version, String dataset, Shape shape, List<String> classes, int batchSize,
                    Normalisation normalisation, Map<String, Split> splits, List<ImageSet.SourceFile> sources,
                    Map<String, String> lineage) {
        this(format, version, dataset, shape, classes, batchSize, normalisation, splits, sources, lineage, null);
    }

    /** Input shape, channel-first. */
    public record Shape(int channels, int height, int width) implements Serializable {
    }

    /**
     * How raw values became features: {@code features = (raw * scale - mean) / std}; mean/std are from the
     * training split only.
     */
    public record Normalisation(String method, double scale, double mean, double std) implements Serializable {
    }

    public record Split(long examples, long[] classCounts, List<Shard> shards) implements Serializable {
    }

    /** One shard file, relative to the shard directory. */
    public record Shard(String file, int examples, String sha256) implements Serializable {
    }

    public List<String> shardUris(String dir, String split) {
        Split s = splits.get(split);
        if (s == null) {
            throw new SparkconvException(dir + ": no split '" + split + "' in " + FILE + " (has " + splits.keySet() + ")");
        }
        List<String> out = new ArrayList<>(s.shards().size());
        String base = Fs.uri(dir);
        for (Shard shard : s.shards()) {
            out.add(base + "/" + shard.file());
        }
        return out;
    }

    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    public static Manifest fromJson(String source, String json) {
        Manifest m;
        try {
            m = JSON.readValue(json, Manifest.class);
        } catch (JsonProcessingException e) {
            throw new SparkconvException(source + ": not a valid shard manifest: " + e.getOriginalMessage());
        }
        if (!FORMAT.equals(m.format())) {
            throw new SparkconvException(source + ": format '" + m.format() + "' is not " + FORMAT);
        }
        if (m.version() > VERSION) {
            throw new SparkconvException(source + ": manifest version " + m.version() + " is newer than this sparkconv reads ("
                    + VERSION + "); upgrade sparkconv");
        }
        return m;
    }

    public static Manifest read(String dir, Configuration conf) {
        Path p = Fs.child(dir, FILE);
        if (!Fs.exists(p, conf)) {
            throw new SparkconvException(dir + ": not a shard directory (no " + FILE + "; run preprocess first)");
        }
        return fromJson(p.toString(), Fs.readString(p, conf));
    }
}
