package sparkconv.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;

import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import sparkconv.SparkconvException;

class IdxFileTest {
    @TempDir
    Path dir;

    /** An IDX file of unsigned bytes with the given dimensions and payload. */
    static byte[] idx(int[] dims, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + payload.length);
        b.putInt(0x0800 | dims.length);
        for (int d : dims) {
            b.putInt(d);
        }
        b.put(payload);
        return b.array();
    }

    static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(data);
        }
        return out.toByteArray();
    }

    @Test
    void readsRawAndGzippedFiles() throws IOException {
        byte[] payload = new byte[3 * 2 * 2];
        for (int i = 0; i < payload.length; i++) {
            payload[i] = (byte) (i * 20);
        }
        byte[] raw = idx(new int[]{3, 2, 2}, payload);
        for (byte[] bytes : new byte[][]{raw, gzip(raw)}) {
            IdxFile f = IdxFile.parse("images", bytes);
            assertArrayEquals(new int[]{3, 2, 2}, f.dims());
            assertEquals(3, f.count());
            assertEquals(4, f.itemSize());
            assertArrayEquals(payload, f.data());
        }
    }

    @Test
    void wrongMagicNumberNamesTheFile() {
        byte[] bad = idx(new int[]{1}, new byte[]{1});
        bad[0] = 0x12;
        SparkconvException e = assertThrows(SparkconvException.class, () -> IdxFile.parse("/data/x-labels", bad));
        assertEquals("/data/x-labels: wrong IDX magic number 0x12000801 (expected 0x000008NN)", e.getMessage());
    }

    @Test
    void truncatedPayloadAndStreamsAreReported() throws IOException {
        byte[] full = idx(new int[]{10, 2, 2}, new byte[40]);
        byte[] cut = Arrays.copyOf(full, full.length - 5);
        SparkconvException e = assertThrows(SparkconvException.class, () -> IdxFile.parse("imgs", cut));
        assertEquals("imgs: truncated IDX payload: header declares [10, 2, 2] = 40 bytes, file has 35", e.getMessage());
        byte[] gz = gzip(full);
        SparkconvException g = assertThrows(SparkconvException.class, () -> IdxFile.parse("imgs.gz", Arrays.copyOf(gz, gz.length / 2)));
        assertTrue(g.getMessage().startsWith("imgs.gz: truncated gzip stream"), g.getMessage());
        assertThrows(SparkconvException.class, () -> IdxFile.parse("tiny", new byte[]{0, 0}));
        assertThrows(SparkconvException.class, () -> IdxFile.parse("float", new byte[]{0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0}));
    }

    @Test
    void datasetChecksMissingFilesAndCountMismatch() throws IOException {
        Configuration conf = new Configuration();
        SparkconvException missingDir = assertThrows(SparkconvException.class,
                () -> IdxDataset.load(dir.resolve("nope").toString(), IdxDataset.DIGIT_CLASSES, conf));
        assertTrue(missingDir.getMessage().contains("data directory does not exist"), missingDir.getMessage());

        writeSet("train", 4, 4);
        SparkconvException noTest = assertThrows(SparkconvException.class,
                () -> IdxDataset.load(dir.toString(), IdxDataset.DIGIT_CLASSES, conf));
        assertTrue(noTest.getMessage().endsWith("missing t10k-images-idx3-ubyte[.gz]"), noTest.getMessage());

        writeSet("t10k", 3, 2);
        SparkconvException mismatch = assertThrows(SparkconvException.class,
                () -> IdxDataset.load(dir.toString(), IdxDataset.DIGIT_CLASSES, conf));
        assertTrue(mismatch.getMessage().endsWith("t10k-images-idx3-ubyte: 3 images but t10k-labels-idx1-ubyte.gz has 2 labels"),
                mismatch.getMessage());

        writeSet("t10k", 2, 2);
        IdxDataset.TrainTest tt = IdxDataset.load(dir.toString(), IdxDataset.DIGIT_CLASSES, conf);
        assertEquals(4, tt.train().size());
        assertEquals(2, tt.test().size());
        assertEquals(2, tt.train().sources().size());
    }

    private void writeSet(String prefix, int images, int labels) throws IOException {
        Files.write(dir.resolve(prefix + "-images-idx3-ubyte"), idx(new int[]{images, 2, 2}, new byte[images * 4]));
        byte[] y = new byte[labels];
        for (int i = 0; i < labels; i++) {
            y[i] = (byte) (i % 10);
        }
        Files.write(dir.resolve(prefix + "-labels-idx1-ubyte.gz"), gzip(idx(new int[]{labels}, y)));
    }
}
