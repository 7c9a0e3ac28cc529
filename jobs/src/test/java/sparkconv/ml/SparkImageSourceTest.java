package sparkconv.ml;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.execution.datasources.HadoopFsRelation;
import org.apache.spark.sql.execution.datasources.LogicalRelation;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import sparkconv.LocalSpark;
import sparkconv.data.TestImages;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link SparkImageSource} against Spark's own {@code image} source on the same files: the same rows in the same order,
 * field for field and byte for byte, over the kinds of file the source treats differently (grey, RGB, alpha, 16-bit,
 * palette, JPEG, a file it cannot decode), with and without {@code dropInvalid}, under projections, filters, a union and
 * a join; and the DataFrames it must leave as they are.
 */
class SparkImageSourceTest {
    @TempDir
    static Path dir;

    static SparkSession spark;
    static String folder;

    @BeforeAll
    static void files() throws Exception {
        spark = LocalSpark.get();
        Path images = Files.createDirectories(dir.resolve("images/a"));
        Files.createDirectories(dir.resolve("images/b c"));
        for (int i = 0; i < 30; i++) {
            TestImages.write(images.resolve("grey-" + i + ".png"), TestImages.grey(28, 28, i, "png"));
        }
        TestImages.write(images.resolve("rgb.png"), TestImages.rgb(20, 12, 1, "png"));
        TestImages.write(images.resolve("rgb.jpg"), TestImages.rgb(20, 12, 2, "jpg"));
        TestImages.write(dir.resolve("images/b c/grey 1.jpg"), TestImages.grey(9, 7, 3, "jpg"));
        TestImages.write(images.resolve("alpha.png"), TestImages.encode(filled(BufferedImage.TYPE_INT_ARGB), "png"));
        TestImages.write(images.resolve("grey16.png"), TestImages.encode(filled(BufferedImage.TYPE_USHORT_GRAY), "png"));
        TestImages.write(images.resolve("palette.png"), TestImages.encode(filled(BufferedImage.TYPE_BYTE_INDEXED), "png"));
        TestImages.write(images.resolve("notes.txt"), TestImages.text("not an image"));
        folder = dir.resolve("images").toString();
    }

    /** A 6x5 image of {@code type} whose every pixel differs (alpha too, where it has one). */
    private static BufferedImage filled(int type) {
        BufferedImage img = new BufferedImage(6, 5, type);
        for (int y = 0; y < 5; y++) {
            for (int x = 0; x < 6; x++) {
                int v = 40 * y + 7 * x;
                img.setRGB(x, y, (255 - v) << 24 | v << 16 | (2 * v % 256) << 8 | (3 * v % 256));
            }
        }
        return img;
    }

    private static Dataset<Row> read(boolean dropInvalid) {
        return spark.read().format("image").option("recursiveFileLookup", "true").option("dropInvalid", dropInvalid).load(folder);
    }

    @Test
    void givesSparksRowsInSparksOrder() {
        for (boolean dropInvalid : new boolean[]{false, true}) {
            Dataset<Row> images = read(dropInvalid).withColumn("n", col("image.width").plus(1));
            assertSameRows(images, dropInvalid ? 36 : 37);
            assertSameRows(images.filter(col("image.height").gt(7)).select("image.origin", "image.nChannels"), -1);
            assertSameRows(images.select(lit(1)), -1);
        }
    }

    @Test
    void readsEveryImageSourceOfAUnionOrAJoin() {
        Dataset<Row> images = read(false);
        Dataset<Row> union = images.union(read(true));
        assertSameRows(union, 37 + 36);
        assertEquals(2, scans(SparkImageSource.of(union)));
        Dataset<Row> join = images.join(read(true).select(col("image.origin").as("origin"), col("image.mode").as("m")),
                col("image.origin").equalTo(col("origin")));
        assertSameRows(join, 36);
        assertEquals(2, scans(SparkImageSource.of(join)));
    }

    @Test
    void leavesOtherPlansAsTheyAre() {
        Dataset<Row> inMemory = spark.createDataFrame(read(false).collectAsList(), read(false).schema());
        assertSame(inMemory.queryExecution().analyzed(), SparkImageSource.of(inMemory).queryExecution().analyzed(), "no image source to read");
        Dataset<Row> cached = read(false).withColumn("n", lit(1)).cache();
        try {
            assertSame(cached.queryExecution().analyzed(), SparkImageSource.of(cached).queryExecution().analyzed(),
                    "a cached DataFrame keeps reading its cache");
        } finally {
            cached.unpersist(true);
        }
    }

    /** Rows of {@code images} read by Spark's source and by {@link SparkImageSource}'s reader: equal, in order ({@code n} of them unless -1). */
    private static void assertSameRows(Dataset<Row> images, int n) {
        Dataset<Row> fast = SparkImageSource.of(images);
        assertTrue(scans(fast) > 0, "read by SparkImageSource's reader: " + fast.queryExecution().analyzed());
        List<Row> expected = images.collectAsList();
        List<Row> actual = fast.collectAsList();
        if (n >= 0) {
            assertEquals(n, expected.size());
        }
        assertEquals(expected, actual, "Row.equals compares binary fields (the pixels) byte for byte");
    }

    /** How many relations of {@code df}'s plan {@link SparkImageSource.Format} reads. */
    static int scans(Dataset<Row> df) {
        LogicalPlan plan = df.queryExecution().analyzed();
        return plan.collect(new scala.runtime.AbstractPartialFunction<LogicalPlan, Object>() {
            @Override
            public boolean isDefinedAt(LogicalPlan p) {
                return p instanceof LogicalRelation r && r.relation() instanceof HadoopFsRelation f && f.fileFormat() instanceof SparkImageSource.Format;
            }

            @Override
            public <A1 extends LogicalPlan, B1> B1 applyOrElse(A1 p, scala.Function1<A1, B1> otherwise) {
                @SuppressWarnings("unchecked")
                B1 one = (B1) (Object) 1;
                return isDefinedAt(p) ? one : otherwise.apply(p);
            }
        }).size();
    }
}
