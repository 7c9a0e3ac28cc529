package sparkconv.shards;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/** The fast shard reader gives exactly what DL4J's {@code DataSet.load} gives, and defers to it for other layouts. */
class ShardFilesTest {
    private static byte[] save(DataSet ds) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ds.save(out);
        return out.toByteArray();
    }

    private static DataSet dl4jLoad(byte[] bytes) {
        DataSet ds = new DataSet();
        ds.load(new ByteArrayInputStream(bytes));
        return ds;
    }

    private static void assertSameArray(INDArray expected, INDArray actual) {
        assertArrayEquals(expected.shape(), actual.shape());
        assertArrayEquals(expected.stride(), actual.stride());
        assertEquals(expected.ordering(), actual.ordering());
        assertEquals(expected.dataType(), actual.dataType());
        assertArrayEquals(expected.data().asFloat(), actual.data().asFloat());
    }

    /**
     * A shard's pieces ({@code sync}'s minibatches) are its examples in order, cut as evenly as they go: together they
     * are the shard; a short shard's piece that would hold no example is none (the trainer leaves it out).
     */
    @Test
    void aShardsPiecesAreItsExamplesInOrder() {
        byte[] pixels = new byte[3 * 2 * 3 * 4];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (byte) (i * 37);
        }
        DataSet shard = ShardWriter.toDataSet(pixels, new int[]{0, 2, 1}, 2, 3, 4, 3,
                new Manifest.Normalisation("scale", 1 / 255.0, 0, 1));
        assertFalse(ShardFiles.pieceHoldsExamples(0, 4, 3), "3 examples in 4 pieces: the first holds none");
        assertThrows(IllegalArgumentException.class, () -> ShardFiles.slice(shard, 0, 4));
        for (int k = 1; k < 4; k++) {
            assertTrue(ShardFiles.pieceHoldsExamples(k, 4, 3));
            DataSet piece = ShardFiles.slice(shard, k, 4);
            assertEquals(1, piece.numExamples());
            assertArrayEquals(shard.getFeatures().slice(k - 1).dup().data().asFloat(), piece.getFeatures().data().asFloat(), "piece " + k);
            assertArrayEquals(shard.getLabels().getRow(k - 1).dup().data().asFloat(), piece.getLabels().data().asFloat());
        }
        assertEquals(shard.getFeatures(), Nd4j.concat(0, ShardFiles.slice(shard, 0, 2).getFeatures(),
                ShardFiles.slice(shard, 1, 2).getFeatures()), "two pieces (1 + 2 examples) are the shard");
        assertEquals("hdfs:///s/shard-00007.bin#piece=3/8", ShardFiles.piece("hdfs:///s/shard-00007.bin", 3, 8));
    }

    @Test
    void readsWhatShardWriterWritesExactlyLikeDl4j() {
        byte[] pixels = new byte[5 * 2 * 3 * 4];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (byte) (i * 37);
        }
        DataSet written = ShardWriter.toDataSet(pixels, new int[]{0, 2, 1, 2, 0}, 2, 3, 4, 3,
                new Manifest.Normalisation("standardise", 1 / 255.0, 0.4, 0.3));
        byte[] bytes = save(written);
        DataSet expected = dl4jLoad(bytes);
        DataSet fast = ShardBytes.decode(bytes);
        assertSameArray(expected.getFeatures(), fast.getFeatures());
        assertSameArray(expected.getLabels(), fast.getLabels());
        assertNull(fast.getFeaturesMaskArray());
        assertEquals(5, fast.numExamples());
    }

    @Test
    void readsShardFilesThroughHadoop(@TempDir Path dir) throws Exception {
        DataSet ds = new DataSet(Nd4j.rand(DataType.FLOAT, 3, 1, 5, 5), Nd4j.eye(3).castTo(DataType.FLOAT));
        Path file = dir.resolve("shard-00000.bin");
        Files.write(file, save(ds));
        DataSet read = ShardFiles.read(file.toUri().toString());
        assertSameArray(ds.getFeatures(), read.getFeatures());
        assertSameArray(ds.getLabels(), read.getLabels());
    }

    @Test
    void otherLayoutsGoThroughDl4jsReader() {
        // masks and a DOUBLE array: not what sparkconv writes, still read like DataSet.load reads them
        DataSet masked = new DataSet(Nd4j.rand(DataType.DOUBLE, 2, 3, 4), Nd4j.rand(DataType.FLOAT, 2, 2, 4),
                Nd4j.ones(DataType.FLOAT, 2, 4), null);
        byte[] bytes = save(masked);
        DataSet expected = dl4jLoad(bytes);
        DataSet read = ShardBytes.decode(bytes);
        assertSameArray(expected.getFeatures(), read.getFeatures());
        assertSameArray(expected.getLabels(), read.getLabels());
        assertSameArray(expected.getFeaturesMaskArray(), read.getFeaturesMaskArray());
    }

    @Test
    void aTruncatedFileFailsLikeDl4j() {
        DataSet ds = new DataSet(Nd4j.rand(DataType.FLOAT, 4, 1, 3, 3), Nd4j.eye(4).castTo(DataType.FLOAT));
        byte[] bytes = save(ds);
        byte[] truncated = Arrays.copyOf(bytes, bytes.length - 10);
        assertThrows(RuntimeException.class, () -> ShardBytes.decode(truncated));
    }
}
