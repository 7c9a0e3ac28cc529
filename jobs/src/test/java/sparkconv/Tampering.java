package sparkconv;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.api.ndarray.INDArray;

import sparkconv.store.FileDigests;

/**
 * What a writer of the store does to a published file after the fact, as any writer would: through Hadoop's
 * FileSystem, so the local file system's {@code .crc} sidecar is rewritten to match and only sparkconv's own checksums
 * can tell.
 */
public final class Tampering {
    private Tampering() {
    }

    /** Rewrites a local model zip (with its updater state) with one bit of its first weight flipped: a valid, different model. */
    public static void flipOneWeightBit(Path zip) throws IOException {
        flipOneWeightBit(zip.toUri());
    }

    /** {@link #flipOneWeightBit(Path)} on any Hadoop file system ({@code hdfs://}). */
    public static void flipOneWeightBit(URI zip) throws IOException {
        MultiLayerNetwork net;
        try (InputStream in = fs(zip).open(new org.apache.hadoop.fs.Path(zip))) {
            net = ModelSerializer.restoreMultiLayerNetwork(in, true);
        }
        INDArray params = net.params();
        params.putScalar(0, Float.intBitsToFloat(Float.floatToRawIntBits(params.getFloat(0)) ^ 1));
        try (OutputStream out = create(zip)) {
            ModelSerializer.writeModel(net, out, true);
        }
    }

    /** Rewrites a file with the lowest bit of its middle byte flipped (a shard: one feature value changes). */
    public static void flipOneBit(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length / 2] ^= 1;
        try (OutputStream out = create(file.toUri())) {
            out.write(bytes);
        }
    }

    /** Rewrites a metadata.json / checkpoint.json without its checksums: a version written before sparkconv recorded them. */
    public static void dropChecksums(Path json) throws IOException {
        ObjectMapper mapper = new ObjectMapper();
        Map<?, ?> m = mapper.readValue(json.toFile(), Map.class);
        m.remove(FileDigests.KEY);
        try (OutputStream out = create(json.toUri())) {
            out.write(mapper.writeValueAsBytes(m));
        }
    }

    private static OutputStream create(URI file) throws IOException {
        return fs(file).create(new org.apache.hadoop.fs.Path(file), true);
    }

    private static FileSystem fs(URI file) throws IOException {
        return FileSystem.get(file, new Configuration());
    }
}
