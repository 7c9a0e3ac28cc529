package sparkconv.score;

import java.io.IOException;
import java.io.Serializable;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import sparkconv.SparkconvException;
import sparkconv.shards.Manifest;
import sparkconv.spark.Fs;
import sparkconv.spark.StagedCommit;
import sparkconv.store.FileDigests;
import sparkconv.store.ModelStore;

/**
 * A stored model version and the preprocessing its metadata records (input shape, class names, normalisation), so
 * images are scored exactly as the training shards were made. Small and serializable: executors get this, and load
 * the network itself once per JVM ({@link ModelCache}). {@code sha256}: the checksums of the version's files its metadata
 * records (null for a version written before they were recorded), which every load checks.
 */
public record ScoringModel(String name, String version, String uri, int channels, int height, int width, List<String> classes,
                           Manifest.Normalisation normalisation, Map<String, String> sha256) implements Serializable {
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * {@code spec} is a version directory (any URI holding model.zip and metadata.json) or {@code NAME[:VERSION|latest|best]}
     * in {@code storeUri}.
     */
    public static ScoringModel resolve(String spec, String storeUri, Configuration conf) {
        if (spec.contains("/")) {
            String dir = Fs.uri(spec);
            Path metadata = Fs.child(dir, ModelStore.METADATA);
            if (!Fs.exists(Fs.child(dir, StagedCommit.SUCCESS), conf) || !Fs.exists(metadata, conf)) {
                throw new SparkconvException(dir + ": not a complete model version (needs " + ModelStore.MODEL + ", "
                        + ModelStore.METADATA + " and " + StagedCommit.SUCCESS + ")");
            }
            Map<?, ?> meta = read(metadata, conf);
            return of(String.valueOf(meta.get("name")), String.valueOf(meta.get("version")), dir, meta);
        }
        if (storeUri == null) {
            throw new SparkconvException("--model " + spec + " names a stored model: pass --store URI (or give the version directory's URI)");
        }
        int colon = spec.indexOf(':');
        String name = colon < 0 ? spec : spec.substring(0, colon);
        String version = colon < 0 ? "latest" : spec.substring(colon + 1);
        ModelStore.Version v = new ModelStore(storeUri, conf).get(name, version);
        return of(name, v.version(), v.uri(), v.metadata());
    }

    private static ScoringModel of(String name, String version, String uri, Map<?, ?> meta) {
        String where = uri + "/" + ModelStore.METADATA;
        Object input = meta.get("input");
        Object classes = meta.get("classes");
        Object norm = meta.get("normalisation");
        if (!(input instanceof Map<?, ?> in) || !(classes instanceof List<?> cl) || !(norm instanceof Map<?, ?>)) {
            throw new SparkconvException(where + ": needs 'input', 'classes' and 'normalisation' (stored by sparkconv train?)");
        }
        Map<String, String> sha256 = FileDigests.of(Fs.path(uri), ModelStore.METADATA, name + " " + version, meta).sha256();
        try {
            return new ScoringModel(name, version, uri, ((Number) in.get("channels")).intValue(), ((Number) in.get("height")).intValue(),
                    ((Number) in.get("width")).intValue(), cl.stream().map(String::valueOf).toList(),
                    JSON.convertValue(norm, Manifest.Normalisation.class), sha256);
        } catch (RuntimeException e) {
            throw new SparkconvException(where + ": malformed input shape or normalisation: " + e.getMessage());
        }
    }

    private static Map<?, ?> read(Path p, Configuration conf) {
        try {
            return JSON.readValue(Fs.readString(p, conf), Map.class);
        } catch (IOException e) {
            throw new SparkconvException(p + ": not valid JSON: " + e.getMessage());
        }
    }

    /**
     * The network, its model.zip checked against the checksums metadata.json recorded (as read on the driver): on the
     * driver before anything is scored, and again on each executor that loads it.
     */
    public MultiLayerNetwork load(Configuration conf) {
        return new FileDigests(Fs.path(uri), ModelStore.METADATA, name + " " + version, sha256)
                .load(ModelStore.MODEL, conf, zip -> ModelSerializer.restoreMultiLayerNetwork(zip, false));
    }

    /**
     * Fails clearly, before any data is read, if the network does not take this metadata's input shape or does not
     * give one probability per class: one forward pass of a blank image proves both.
     */
    public void check(MultiLayerNetwork net) {
        INDArray out;
        try {
            out = net.output(Nd4j.zeros(DataType.FLOAT, 1, channels, height, width), false);
        } catch (RuntimeException e) {
            throw new SparkconvException(this + ": the network does not accept " + shape() + " inputs, which its metadata declares: "
                    + e.getMessage());
        }
        if (out.rank() != 2 || out.size(1) != classes.size()) {
            throw new SparkconvException(this + ": the network gives " + java.util.Arrays.toString(out.shape())
                    + " outputs for one image but its metadata lists " + classes.size() + " classes");
        }
    }

    /**
     * The class a label directory names: the class of that name, or, for a class name no directory can hold (a '/',
     * as in Fashion-MNIST's "T-shirt/top"), the one whose name has each '/' written as '_'. -1 when none.
     */
    public int classOfDirectory(String directory) {
        int exact = classes.indexOf(directory);
        if (exact >= 0) {
            return exact;
        }
        for (int c = 0; c < classes.size(); c++) {
            if (classes.get(c).replace('/', '_').equals(directory)) {
                return c;
            }
        }
        return -1;
    }

    public String shape() {
        return height + "x" + width + "x" + channels;
    }

    @Override
    public String toString() {
        return "model " + name + " " + version;
    }
}
