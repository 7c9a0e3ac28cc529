package sparkconv.preprocess;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

import sparkconv.LocalSpark;
import sparkconv.SparkconvException;
import sparkconv.data.CifarBatches;
import sparkconv.data.ImageDecoder;
import sparkconv.data.ImageReader;
import sparkconv.data.TestImages;
import sparkconv.cli.Main;
import sparkconv.shards.Manifest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ImagePreprocessTest {
    static final List<String> CLASSES = List.of("bird", "cat", "dog");
    static SparkSession spark;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        spark = LocalSpark.get();
    }

    static ImagePreprocess.Request request(Path source, ImageReader.Format format, boolean overwrite) {
        return new ImagePreprocess.Request(source.toString(), format, "test", new ImageDecoder(1, 28, 28, 1_000_000),
                1 << 20, 0.2, 0.2, 4, overwrite);
    }

    /** 3 classes x 8 images, PNG and JPEG, some not 28x28: the relative names archives reuse. */
    static List<TestImages.Entry> goodImages() {
        List<TestImages.Entry> out = new ArrayList<>();
        int seed = 0;
        for (String c : CLASSES) {
            for (int i = 0; i < 8; i++) {
                seed++;
                byte[] data = i % 4 == 3 ? TestImages.rgb(40, 32, seed, "jpeg") : TestImages.grey(28, 28, seed, "png");
                out.add(TestImages.Entry.file(c + "/img" + i + (i % 4 == 3 ? ".jpg" : ".png"), data));
            }
        }
        return out;
    }

    static void writeFolder(Path root, List<TestImages.Entry> entries) throws Exception {
        for (TestImages.Entry e : entries) {
            TestImages.write(root.resolve(e.name()), e.data());
        }
    }

    static List<String> shardChecksums(Manifest m) {
        List<String> out = new ArrayList<>();
        m.splits().forEach((split, s) -> s.shards().forEach(sh -> out.add(sh.file() + "=" + sh.sha256())));
        out.sort(null);
        return out;
    }

    @Test
    void folderZipAndTarGzOfTheSameImagesGiveIdenticalShards() throws Exception {
        List<TestImages.Entry> images = goodImages();
        writeFolder(dir.resolve("folder"), images);
        TestImages.zip(dir.resolve("images.zip"), images.toArray(TestImages.Entry[]::new));
        TestImages.tar(dir.resolve("images.tar.gz"), true, images.toArray(TestImages.Entry[]::new));

        Manifest fromFolder = ImagePreprocess.run(spark, request(dir.resolve("folder"), ImageReader.Format.FOLDER, false),
                dir.resolve("out-folder").toString()).shards().manifest();
        Manifest fromZip = ImagePreprocess.run(spark, request(dir.resolve("images.zip"), ImageReader.Format.ZIP, false),
                dir.resolve("out-zip").toString()).shards().manifest();
        Manifest fromTar = ImagePreprocess.run(spark, request(dir.resolve("images.tar.gz"), ImageReader.Format.TAR, false),
                dir.resolve("out-tar").toString()).shards().manifest();

        assertEquals(CLASSES, fromFolder.classes());
        assertEquals(new Manifest.Shape(1, 28, 28), fromFolder.shape());
        assertEquals(24, fromFolder.splits().values().stream().mapToLong(Manifest.Split::examples).sum());
        assertTrue(fromFolder.splits().get("train").examples() > 0);
        assertEquals(shardChecksums(fromFolder), shardChecksums(fromZip), "same images, same shards");
        assertEquals(shardChecksums(fromFolder), shardChecksums(fromTar), "same images, same shards");
        assertEquals(fromFolder.normalisation(), fromTar.normalisation());
    }

    @Test
    void aRerunOnUnchangedInputsSkipsAndAChangedInputIsNoticed() throws Exception {
        Path folder = dir.resolve("folder");
        writeFolder(folder, goodImages());
        String out = dir.resolve("shards").toString();
        ImagePreprocess.Result first = ImagePreprocess.run(spark, request(folder, ImageReader.Format.FOLDER, false), out);
        assertFalse(first.shards().upToDate());
        ImagePreprocess.Result again = ImagePreprocess.run(spark, request(folder, ImageReader.Format.FOLDER, false), out);
        assertTrue(again.shards().upToDate());
        assertEquals(shardChecksums(first.shards().manifest()), shardChecksums(again.shards().manifest()));

        TestImages.write(folder.resolve("cat/new.png"), TestImages.grey(28, 28, 99, "png"));
        SparkconvException e = assertThrows(SparkconvException.class,
                () -> ImagePreprocess.run(spark, request(folder, ImageReader.Format.FOLDER, false), out));
        assertTrue(e.getMessage().contains("--overwrite"), e.getMessage());
        ImagePreprocess.Result rewritten = ImagePreprocess.run(spark, request(folder, ImageReader.Format.FOLDER, true), out);
        assertEquals(25, rewritten.shards().manifest().splits().values().stream().mapToLong(Manifest.Split::examples).sum());
    }

    @Test
    void everyKindOfBadFileIsQuarantinedWithItsReasonAndTheJobGoesOn() throws Exception {
        Path folder = dir.resolve("mixed");
        TestImages.write(folder.resolve("cat/good.png"), TestImages.grey(28, 28, 1, "png"));
        TestImages.write(folder.resolve("dog/good.jpg"), TestImages.grey(28, 28, 2, "jpeg"));
        byte[] png = TestImages.grey(28, 28, 3, "png");
        byte[] jpg = TestImages.grey(28, 28, 4, "jpeg");
        Map<String, byte[]> bad = new TreeMap<>(Map.of(
                "cat/empty.png", new byte[0],
                "cat/notes.txt", TestImages.text("not an image"),
                "cat/anim.gif", TestImages.gif(),
                "dog/cut.png", TestImages.truncated(png, png.length / 2),
                "dog/cut.jpg", TestImages.truncated(jpg, jpg.length * 2 / 3),
                "dog/bomb.png", TestImages.pngDeclaring(50_000, 50_000),
                "dog/bomb.jpg", TestImages.jpegDeclaring(40_000, 40_000),
                "dog/flipped.png", TestImages.pngWithBadCrc(TestImages.grey(28, 28, 6, "png"), "IDAT"),
                "loose.png", TestImages.grey(28, 28, 5, "png")));
        for (var e : bad.entrySet()) {
            TestImages.write(folder.resolve(e.getKey()), e.getValue());
        }
        Files.createSymbolicLink(folder.resolve("dog/link.png"), folder.resolve("cat/good.png"));
        Files.createSymbolicLink(folder.resolve("loop"), folder);
        String out = dir.resolve("shards").toString();
        ImagePreprocess.Result r = ImagePreprocess.run(spark, request(folder, ImageReader.Format.FOLDER, false), out);

        Map<String, String> expected = new TreeMap<>(Map.of("cat/empty.png", "empty-file", "cat/notes.txt", "not-an-image",
                "cat/anim.gif", "unsupported-format", "dog/cut.png", "corrupt-image", "dog/cut.jpg", "corrupt-image",
                "dog/bomb.png", "decompression-bomb", "dog/bomb.jpg", "decompression-bomb", "loose.png", "no-class-directory",
                "dog/flipped.png", "checksum-mismatch"));
        expected.put("dog/link.png", "symlink");
        expected.put("loop", "symlink");
        Map<String, String> actual = new TreeMap<>();
        Map<String, Long> bytes = new TreeMap<>();
        for (Row row : spark.read().parquet(r.quarantineUri()).collectAsList()) {
            String rel = row.getString(0).substring(row.getString(0).indexOf("/mixed/") + "/mixed/".length());
            actual.put(rel, row.getString(1));
            bytes.put(rel, row.getLong(2));
        }
        assertEquals(expected, actual);
        bad.forEach((name, data) -> assertEquals(data.length, bytes.get(name), name));
        Map<String, Long> counts = Map.of("corrupt-image", 2L, "decompression-bomb", 2L, "empty-file", 1L, "no-class-directory", 1L,
                "not-an-image", 1L, "unsupported-format", 1L, "symlink", 2L, "checksum-mismatch", 1L);
        assertEquals(counts, r.quarantined());
        assertEquals(counts, Manifest.read(out, new Configuration()).quarantined(), "the manifest keeps the counts the job printed");
        assertEquals(2, r.shards().manifest().splits().values().stream().mapToLong(Manifest.Split::examples).sum());
        assertTrue(Files.exists(Path.of(r.quarantineUri().replace("file:", "")).resolve("_SUCCESS")));
    }

    @Test
    void archiveEntriesWithUnsafePathsOrLinksAreQuarantined() throws Exception {
        byte[] png = TestImages.grey(28, 28, 1, "png");
        Path zip = dir.resolve("evil.zip");
        TestImages.zip(zip, TestImages.Entry.file("cat/a.png", png), TestImages.Entry.file("../../cat/b.png", png),
                TestImages.Entry.symlink("cat/c.png", "/etc/passwd"));
        ImagePreprocess.Result r = ImagePreprocess.run(spark, request(zip, ImageReader.Format.ZIP, false), dir.resolve("out").toString());
        assertEquals(Map.of("symlink", 1L, "unsafe-path", 1L), r.quarantined());
        assertEquals(1, r.shards().manifest().splits().values().stream().mapToLong(Manifest.Split::examples).sum());
    }

    @Test
    void inputWithNoUsableImageFailsWithAClearMessage() throws Exception {
        Path folder = dir.resolve("allbad");
        TestImages.write(folder.resolve("cat/a.png"), new byte[0]);
        TestImages.write(folder.resolve("cat/b.txt"), TestImages.text("hello"));
        SparkconvException e = assertThrows(SparkconvException.class,
                () -> ImagePreprocess.run(spark, request(folder, ImageReader.Format.FOLDER, false), dir.resolve("out").toString()));
        assertTrue(e.getMessage().contains("no usable images: all 2 inputs were quarantined"), e.getMessage());
        assertTrue(e.getMessage().contains("empty-file=1"), e.getMessage());
    }

    @Test
    void anArchiveThatCannotBeReadAtAllIsNamedWithWhatIsWrong() throws Exception {
        Path zip = dir.resolve("cut.zip");
        TestImages.zip(zip, goodImages().toArray(TestImages.Entry[]::new));
        byte[] bytes = Files.readAllBytes(zip);
        Files.write(zip, java.util.Arrays.copyOf(bytes, bytes.length / 2));
        SparkconvException e = assertThrows(SparkconvException.class,
                () -> ImagePreprocess.run(spark, request(zip, ImageReader.Format.ZIP, false), dir.resolve("out").toString()));
        assertTrue(e.getMessage().contains("no usable images: all 1 inputs were quarantined {unreadable=1}; " + zip.toUri().toString().replace("file:///", "file:/")
                + ": cannot open zip archive: truncated zip"), e.getMessage());
        assertTrue(e.getMessage().contains("no end-of-central-directory record"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line");
    }

    @Test
    void cifarBatchesKeepTheirPixelsLabelsAndTestSplit() throws Exception {
        Path cifar = dir.resolve("cifar");
        int[] trainLabels = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
        byte[] train = TestImages.cifar(trainLabels, 11);
        byte[] badLabel = TestImages.cifar(new int[]{0}, 13);
        badLabel[0] = 10; // one past CIFAR-10's last class
        byte[] withPartialRecord = java.util.Arrays.copyOf(train, train.length + badLabel.length + 100);
        System.arraycopy(badLabel, 0, withPartialRecord, train.length, badLabel.length);
        TestImages.write(cifar.resolve("data_batch_1.bin"), withPartialRecord);
        int[] testLabels = {9, 8, 7, 6, 5, 4};
        byte[] test = TestImages.cifar(testLabels, 12);
        TestImages.write(cifar.resolve("test_batch.bin"), test);
        TestImages.write(cifar.resolve("batches.meta.txt"), TestImages.text(String.join("\n", CifarBatches.CLASSES) + "\n"));
        assertEquals(ImageReader.Format.CIFAR, ImageReader.detect(cifar.toString(), new Configuration()));

        String out = dir.resolve("shards").toString();
        ImagePreprocess.Result r = ImagePreprocess.run(spark, new ImagePreprocess.Request(cifar.toString(), ImageReader.Format.CIFAR,
                "cifar-10", new ImageDecoder(3, 32, 32, 1_000_000), 1 << 20, 0.0, 0.0, 64, false), out);
        Manifest m = r.shards().manifest();
        assertEquals(CifarBatches.CLASSES, m.classes());
        assertEquals(Map.of("truncated-record", 1L, "bad-label", 1L), r.quarantined());
        Row bad = spark.read().parquet(r.quarantineUri()).where("reason = 'bad-label'").first();
        assertTrue(bad.getString(0).endsWith("data_batch_1.bin#20") && bad.getString(3).equals("label 10 is outside 0..9"), bad.toString());
        assertEquals(20, m.splits().get("train").examples());
        assertEquals(6, m.splits().get("test").examples());

        DataSet ds = new DataSet();
        try (InputStream in = Files.newInputStream(Path.of(m.shardUris(out, "test").get(0).replace("file:", "")))) {
            ds.load(in);
        }
        INDArray f = ds.getFeatures();
        Manifest.Normalisation n = m.normalisation();
        for (int i = 0; i < testLabels.length; i++) {
            assertEquals(testLabels[i], ds.getLabels().getRow(i).argMax().getInt(0));
            for (int k : new int[]{0, 1023, 1024, 2048, 3071}) {
                int c = k / 1024, y = (k % 1024) / 32, x = k % 32;
                double raw = (f.getDouble(i, c, y, x) * n.std() + n.mean()) / n.scale();
                assertEquals(test[i * CifarBatches.RECORD + 1 + k] & 0xff, raw, 0.01, "record " + i + " byte " + k);
            }
        }
    }

    private static void writeIdx(Path file, int[] dims, byte[] payload) throws Exception {
        Files.createDirectories(file.getParent());
        try (var out = new java.io.DataOutputStream(file.toString().endsWith(".gz")
                ? new java.util.zip.GZIPOutputStream(Files.newOutputStream(file)) : Files.newOutputStream(file))) {
            out.writeInt(0x0800 | dims.length);
            for (int d : dims) {
                out.writeInt(d);
            }
            out.write(payload);
        }
    }

    @Test
    void anIdxPairIsReadOnItsOwnInFileOrder() throws Exception {
        int n = 50;
        byte[] pixels = new byte[n * 28 * 28];
        new java.util.Random(3).nextBytes(pixels);
        byte[] labels = new byte[n];
        for (int i = 0; i < n; i++) {
            labels[i] = (byte) (i * 7 % 10);
        }
        Path images = dir.resolve("pair/train-images-idx3-ubyte.gz");
        writeIdx(images, new int[]{n, 28, 28}, pixels);
        writeIdx(dir.resolve("pair/train-labels-idx1-ubyte.gz"), new int[]{n}, labels);
        String out = dir.resolve("pair-shards").toString();
        assertEquals(0, Main.run("preprocess", "--source", images.toString(), "--out", out, "--dataset", "mnist",
                "--validation-fraction", "0.2", "--test-fraction", "0.1", "--batch", "8"));
        Manifest m = Manifest.read(out, new Configuration());
        assertEquals(35, m.splits().get("train").examples());
        assertEquals(10, m.splits().get("validation").examples());
        assertEquals(5, m.splits().get("test").examples());
        assertEquals("idx", m.lineage().get("format"));
        assertEquals(List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9"), m.classes());
        DataSet test = new DataSet();
        try (InputStream in = Files.newInputStream(Path.of(m.shardUris(out, "test").get(0).replace("file:", "")))) {
            test.load(in);
        }
        for (int i = 0; i < 5; i++) {
            assertEquals(labels[45 + i], test.getLabels().getRow(i).argMax().getInt(0), "the test split is the file's last images");
        }

        // other names: the labels file is given
        Path otherImages = dir.resolve("named/digits.idx");
        writeIdx(otherImages, new int[]{n, 28, 28}, pixels);
        writeIdx(dir.resolve("named/answers.idx"), new int[]{n}, labels);
        assertEquals(2, Main.run("preprocess", "--source", otherImages.toString(), "--format", "idx", "--out", dir.resolve("x").toString()),
                "no labels file by name: an error that asks for --idx-labels");
        assertEquals(0, Main.run("preprocess", "--source", otherImages.toString(), "--format", "idx",
                "--idx-labels", dir.resolve("named/answers.idx").toString(), "--out", dir.resolve("named-shards").toString(),
                "--dataset", "mnist", "--validation-fraction", "0.2", "--test-fraction", "0.1", "--batch", "8"));
        Manifest named = Manifest.read(dir.resolve("named-shards").toString(), new Configuration());
        assertEquals(m.normalisation(), named.normalisation());
        assertEquals(m.splits().get("test").shards().get(0).sha256(), named.splits().get("test").shards().get(0).sha256());
    }

    @Test
    void aCifarBatchFileIsDetectedAsCifar() throws Exception {
        Path bin = dir.resolve("cifar/data_batch_1.bin");
        TestImages.write(bin, TestImages.cifar(new int[]{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, 21));
        Path renamed = dir.resolve("other/records.bin");
        TestImages.write(renamed, Files.readAllBytes(bin));
        assertEquals(ImageReader.Format.CIFAR, ImageReader.detect(bin.toString(), new Configuration()));
        assertEquals(ImageReader.Format.CIFAR, ImageReader.detect(renamed.toString(), new Configuration()), "by its record size");
        Path notes = dir.resolve("notes.txt");
        TestImages.write(notes, TestImages.text("hello"));
        SparkconvException e = assertThrows(SparkconvException.class, () -> ImageReader.detect(notes.toString(), new Configuration()));
        assertTrue(e.getMessage().contains("pass --format zip, tar, idx or cifar"), e.getMessage());

        String out = dir.resolve("cifar-shards").toString();
        assertEquals(0, Main.run("preprocess", "--source", bin.toString(), "--out", out, "--validation-fraction", "0", "--test-fraction", "0"));
        Manifest m = Manifest.read(out, new Configuration());
        assertEquals("cifar", m.lineage().get("format"));
        assertEquals(new Manifest.Shape(3, 32, 32), m.shape());
        assertEquals(10, m.splits().get("train").examples());
        assertEquals(Map.of(), m.quarantined());
    }
}
