package sparkconv.ml;

import java.nio.file.Path;
import java.util.List;

import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import sparkconv.LocalSpark;
import sparkconv.data.BadImage;
import sparkconv.data.ImageDecoder;
import sparkconv.data.TestImages;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Every kind of features column gives the pixels the product's own decoders give for the same image. */
class FeatureColumnTest {
    @TempDir
    Path dir;

    /**
     * The image data source's struct (B, G, R interleaved) against the encoded file decoded by ImageDecoder, as preprocess
     * and score decode it: the same channel-first pixels, in colour and grey, at the image's size and resized.
     */
    @ParameterizedTest
    @CsvSource({"3, 28, 28", "1, 28, 28", "3, 16, 16", "1, 20, 20"})
    void theImageSourcesStructGivesTheDecodersPixels(int channels, int height, int width) throws Exception {
        SparkSession spark = LocalSpark.get();
        byte[] png = TestImages.rgb(28, 28, 5, "png");
        Path file = dir.resolve("colour.png");
        TestImages.write(file, png);
        Row row = spark.read().format("image").load(file.toString()).first();
        ImageDecoder decoder = new ImageDecoder(channels, height, width, ImageDecoder.DEFAULT_MAX_PIXELS);

        FeatureColumn image = FeatureColumn.of(row.schema(), "image");
        assertEquals(FeatureColumn.Kind.IMAGE, image.kind());
        assertArrayEquals(decoder.decode(png), image.pixels(row, decoder));
    }

    @Test
    void arraysAndVectorsAreChannelFirstPixelValuesAtTheInputShape() {
        ImageDecoder decoder = new ImageDecoder(1, 2, 2, ImageDecoder.DEFAULT_MAX_PIXELS);
        StructType schema = new StructType().add("a", DataTypes.createArrayType(DataTypes.IntegerType)).add("v", SQLDataTypes.VectorType());
        Row row = new org.apache.spark.sql.catalyst.expressions.GenericRowWithSchema(
                new Object[]{scala.collection.JavaConverters.asScalaBuffer(List.of(0, 7, 128, 255)).toSeq(), Vectors.dense(0, 7.2, 128, 254.6)}, schema);
        FeatureColumn array = FeatureColumn.of(schema, "a");
        FeatureColumn vector = FeatureColumn.of(schema, "v");
        assertEquals(FeatureColumn.Kind.ARRAY, array.kind());
        assertEquals(FeatureColumn.Kind.VECTOR, vector.kind());
        assertArrayEquals(new byte[]{0, 7, (byte) 128, (byte) 255}, array.pixels(row, decoder));
        assertArrayEquals(new byte[]{0, 7, (byte) 128, (byte) 255}, vector.pixels(row, decoder), "rounded to the nearest value");

        BadImage size = assertThrows(BadImage.class, () -> array.pixels(row, new ImageDecoder(1, 3, 3, 1000)));
        assertEquals("wrong-size", size.reason().code());
        assertEquals("4 values, expected 9 for input 3x3x1", size.getMessage());
        Row outside = RowFactory.create(Vectors.dense(0, 1, 2, 300));
        assertEquals("value 300.0 at 3 is not a pixel value 0-255", assertThrows(BadImage.class,
                () -> FeatureColumn.of(new StructType().add("v", SQLDataTypes.VectorType()), "v").pixels(outside, decoder)).getMessage());
    }
}
