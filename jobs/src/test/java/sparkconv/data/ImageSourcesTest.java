package sparkconv.data;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.IntStream;

import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import sparkconv.LocalSpark;
import sparkconv.SparkconvException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ImageSourcesTest {
    static SparkSession spark;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        spark = LocalSpark.get();
    }

    /**
     * A folder with one large class directory, nested directories, an empty directory, hidden files and a top-level
     * file; names chosen so that a plain sort of names differs from a sort of URIs ("a-b/" sorts before "a/").
     */
    private List<String> writeTree(Path root) throws Exception {
        List<String> files = new ArrayList<>();
        byte[] png = TestImages.grey(4, 4, 1, "png");
        for (int i = 0; i < 40; i++) {
            files.add(String.format("big/%05d.png", i));
        }
        files.addAll(List.of("a/x.png", "a-b/y.png", "a.png", "small/nested/deeper/z.png", "small/nested/w.png", "small/v.png"));
        for (String f : files) {
            TestImages.write(root.resolve(f), png);
        }
        Files.createDirectories(root.resolve("empty/also-empty"));
        TestImages.write(root.resolve("big/.DS_Store"), new byte[3]);
        TestImages.write(root.resolve("_SUCCESS"), new byte[0]);
        TestImages.write(root.resolve(".hidden/cat/q.png"), png);
        return files;
    }

    private static String directory(String key) {
        return key.contains("/") ? key.substring(0, key.lastIndexOf('/')) : "";
    }

    @Test
    void everyFileIsReadOnceBySlicesOfLargeDirectoriesAndTasksSharedBySmallOnes() throws Exception {
        Path root = dir.resolve("folder");
        List<String> files = writeTree(root);
        List<List<String>> partitions = new FolderReader(root.toString()).entries(spark, 1 << 20)
                .map(ImageEntry::key).glom().collect();

        assertEquals(files.stream().sorted().toList(), partitions.stream().flatMap(List::stream).sorted().toList(),
                "each file once, no hidden ones");
        long bigSlices = partitions.stream().filter(p -> p.stream().anyMatch(k -> k.startsWith("big/"))).count();
        assertTrue(bigSlices > 1, "the large directory is read by several tasks: " + bigSlices);
        assertTrue(partitions.stream().anyMatch(p -> p.stream().map(ImageSourcesTest::directory).distinct().count() > 1),
                "small directories share a task: " + partitions);
        for (List<String> p : partitions) {
            List<String> big = p.stream().filter(k -> k.startsWith("big/")).toList();
            assertEquals(big.stream().sorted().toList(), big, "a slice is read in name order");
        }
        assertEquals(partitions, new FolderReader(root.toString()).entries(spark, 1 << 20)
                .map(ImageEntry::key).glom().collect(), "the same slices on every run");
    }

    @Test
    void aLargeZipIsCutIntoSlicesOfAtMostFilesPerTask() throws Exception {
        int n = 2 * ImageSources.FILES_PER_TASK + 1;
        TestImages.Entry[] files = new TestImages.Entry[n];
        for (int i = 0; i < n; i++) {
            files[i] = TestImages.Entry.file(String.format("cat/%05d.png", i), new byte[] {(byte) i});
        }
        Path zip = dir.resolve("large.zip");
        TestImages.zip(zip, files);
        var entries = new ArchiveReader(zip.toString(), ArchiveEntries.Kind.ZIP).entries(spark, 1 << 20).map(ImageEntry::key);
        assertEquals(3, entries.getNumPartitions());
        List<String> keys = entries.collect();
        assertEquals(n, keys.size());
        assertEquals(n, keys.stream().distinct().count());
    }

    @Test
    void aFolderOfEmptyDirectoriesIsAnError() throws Exception {
        Files.createDirectories(dir.resolve("none/cat"));
        SparkconvException e = assertThrows(SparkconvException.class,
                () -> new FolderReader(dir.resolve("none").toString()).entries(spark, 1 << 20));
        assertTrue(e.getMessage().contains("holds no files"), e.getMessage());
    }

    @Test
    void theFingerprintHashesTheListingInUriOrderWithoutHoldingIt() throws Exception {
        Path root = dir.resolve("folder");
        writeTree(root);
        // what the fingerprint has always been: every visible file's "uri size mtime" line, sorted by URI
        List<String> lines = new ArrayList<>();
        long bytes = 0;
        try (var walk = Files.walk(root)) {
            for (Path f : walk.filter(Files::isRegularFile).toList()) {
                if (root.relativize(f).toString().matches("(^|.*/)[._].*")) {
                    continue;
                }
                lines.add("file:" + f.toAbsolutePath() + "\t" + Files.size(f) + "\t" + Files.getLastModifiedTime(f).toMillis() + "\n");
                bytes += Files.size(f);
            }
        }
        lines.sort(null);
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        lines.forEach(l -> digest.update(l.getBytes(StandardCharsets.UTF_8)));

        List<ImageSet.SourceFile> fingerprint = new FolderReader(root.toString()).fingerprint(spark.sparkContext().hadoopConfiguration());
        assertEquals(1, fingerprint.size());
        assertEquals(HexFormat.of().formatHex(digest.digest()), fingerprint.get(0).sha256());
        assertEquals(bytes, fingerprint.get(0).bytes());
    }

    @Test
    void numberedNamesSpreadEvenlyOverSlices() {
        int[] perSlice = new int[3];
        IntStream.range(0, 6000).forEach(i -> perSlice[ImageSources.sliceOf(String.format("%05d.png", i), 3)]++);
        for (int n : perSlice) {
            assertTrue(n > 1800 && n < 2200, java.util.Arrays.toString(perSlice));
        }
    }
}
