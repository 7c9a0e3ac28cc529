package sparkconv.data;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import sparkconv.LocalSpark;
import sparkconv.MiniHdfs;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Folder and zip sources on a real HDFS (MiniDFSCluster), read through Hadoop: the same entries in the same slices as locally. */
class ImageSourcesHdfsTest {
    private static MiniHdfs hdfs;
    private static String root;
    static SparkSession spark;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() throws Exception {
        spark = LocalSpark.get();
        hdfs = MiniHdfs.start();
        root = hdfs.uri();
    }

    @AfterAll
    static void stop() {
        if (hdfs != null) {
            hdfs.close();
        }
    }

    /** Each slice's entries as "key size content-hash", partition by partition. */
    private static List<List<String>> slices(String source, ImageReader.Format format) {
        return ((ImageReader.Encoded) ImageReader.of(source, format)).entries(spark, 1 << 20)
                .map(e -> e.key() + " " + e.bytes() + " " + Arrays.hashCode(e.content())).glom().collect();
    }

    @Test
    void aFolderAndAZipOnHdfsAreReadAsTheirLocalCopies() throws Exception {
        Path local = dir.resolve("images");
        List<TestImages.Entry> files = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            files.add(TestImages.Entry.file(String.format("cat/%03d.png", i), TestImages.grey(4, 4, i, "png")));
        }
        files.add(TestImages.Entry.file("dog/puppies/p.png", TestImages.grey(4, 4, 99, "png")));
        files.add(TestImages.Entry.file("dog-x/q.png", TestImages.grey(4, 4, 98, "png")));
        for (TestImages.Entry f : files) {
            TestImages.write(local.resolve("folder").resolve(f.name()), f.data());
        }
        TestImages.write(local.resolve("folder/cat/.hidden.png"), new byte[1]);
        Files.createDirectories(local.resolve("folder/empty"));
        TestImages.zip(local.resolve("images.zip"), files.toArray(TestImages.Entry[]::new));
        FileSystem fs = hdfs.fileSystem();
        fs.mkdirs(new org.apache.hadoop.fs.Path(root + "/in"));
        fs.copyFromLocalFile(new org.apache.hadoop.fs.Path(local.toUri()), new org.apache.hadoop.fs.Path(root + "/in"));

        List<List<String>> folder = slices(root + "/in/images/folder", ImageReader.Format.FOLDER);
        assertEquals(slices(local.resolve("folder").toString(), ImageReader.Format.FOLDER), folder);
        assertEquals(files.size(), folder.stream().mapToLong(List::size).sum());
        assertEquals(slices(local.resolve("images.zip").toString(), ImageReader.Format.ZIP),
                slices(root + "/in/images/images.zip", ImageReader.Format.ZIP));
        assertEquals(new FolderReader(local.resolve("folder").toString()).fingerprint(new org.apache.hadoop.conf.Configuration()).get(0).bytes(),
                new FolderReader(root + "/in/images/folder").fingerprint(spark.sparkContext().hadoopConfiguration()).get(0).bytes());
    }
}
