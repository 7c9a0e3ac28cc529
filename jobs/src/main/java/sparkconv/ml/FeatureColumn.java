package sparkconv.ml;

import java.io.Serializable;
import java.util.Arrays;
import java.util.List;

import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.BinaryType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructType;

import sparkconv.data.BadImage;
import sparkconv.data.ImageDecoder;
import sparkconv.data.QuarantineReason;

/**
 * A features column of one of the kinds sparkconv.ml reads, and how its value in a row becomes the channel-first
 * pixels (0-255) that shards and models take, at the decoder's shape:
 * <ul>
 * <li>{@link Kind#IMAGE}: the struct of Spark's {@code image} data source (height, width, nChannels, data): its data is
 * interleaved B, G, R(, A), so it is reordered to the R, G, B planes the product's decoders make, then resized or
 * converted to grey by {@link ImageDecoder#fromChw}, as a decoded CIFAR record is;</li>
 * <li>{@link Kind#BINARY}: encoded PNG / JPEG bytes ({@code binaryFile}'s {@code content}), decoded by {@link ImageDecoder}
 * as {@code preprocess} and {@code score} decode files, with the same quarantine reasons;</li>
 * <li>{@link Kind#ARRAY} / {@link Kind#VECTOR}: C*H*W pixel values, channel-first, already at the input shape.</li>
 * </ul>
 * A value that cannot be used throws {@link BadImage}: the caller counts it or handles it by {@code handleInvalid}.
 *
 * @param index     the column's position in the rows read
 * @param pathIndex a string {@code path} column's position (binaryFile's), or -1: names rows in errors and quarantine
 */
public record FeatureColumn(String name, Kind kind, int index, int pathIndex) implements Serializable {
    public enum Kind { IMAGE, BINARY, ARRAY, VECTOR }

    /** The features column {@code name} of {@code schema}; a missing or mistyped one is an error naming it and its type. */
    public static FeatureColumn of(StructType schema, String name) {
        List<String> names = Arrays.asList(schema.fieldNames());
        if (!names.contains(name)) {
            throw new IllegalArgumentException("features column '" + name + "' does not exist (columns: " + String.join(", ", names) + ")");
        }
        DataType type = schema.apply(name).dataType();
        Kind kind;
        if (type instanceof StructType s && Arrays.asList(s.fieldNames()).containsAll(List.of("height", "width", "nChannels", "data"))) {
            kind = Kind.IMAGE;
        } else if (type instanceof BinaryType) {
            kind = Kind.BINARY;
        } else if (type instanceof ArrayType a && a.elementType() instanceof NumericType) {
            kind = Kind.ARRAY;
        } else if (type.equals(SQLDataTypes.VectorType())) {
            kind = Kind.VECTOR;
        } else {
            throw new IllegalArgumentException("features column '" + name + "' is " + type.simpleString() + "; expected the image "
                    + "data source's struct, binary (encoded PNG / JPEG), a numeric array or an ML Vector");
        }
        int path = names.indexOf("path");
        boolean hasPath = path >= 0 && schema.fields()[path].dataType() instanceof StringType;
        return new FeatureColumn(name, kind, names.indexOf(name), hasPath ? path : -1);
    }

    /** The field to carry along with the features so that rows keep a name ({@code path}), if any. */
    public List<String> carried(StructType schema) {
        return pathIndex >= 0 ? List.of(schema.fields()[pathIndex].name()) : List.of();
    }

    /** What names row {@code n} in errors: its file path or image origin when it has one. */
    public String path(Row row, long n) {
        if (kind == Kind.IMAGE && !row.isNullAt(index)) {
            String origin = row.getStruct(index).getAs("origin");
            if (origin != null && !origin.isEmpty()) {
                return origin;
            }
        }
        return pathIndex >= 0 && !row.isNullAt(pathIndex) ? row.getString(pathIndex) : "row " + n;
    }

    /** The input's size in bytes (encoded file, or pixel data), for the quarantine table. */
    public long bytes(Row row) {
        if (row.isNullAt(index)) {
            return 0;
        }
        return switch (kind) {
            case BINARY -> ((byte[]) row.get(index)).length;
            case IMAGE -> ((byte[]) row.getStruct(index).getAs("data")).length;
            case ARRAY -> row.getList(index).size();
            case VECTOR -> ((Vector) row.get(index)).size();
        };
    }

    /** Channel-first pixels at the decoder's shape; {@link BadImage} when the value cannot be used. */
    public byte[] pixels(Row row, ImageDecoder decoder) {
        if (row.isNullAt(index)) {
            throw new BadImage(QuarantineReason.EMPTY_FILE, "column '" + name + "' is null");
        }
        return switch (kind) {
            case BINARY -> decoder.decode((byte[]) row.get(index));
            case IMAGE -> fromImageStruct(row.getStruct(index), decoder);
            case ARRAY -> fromValues(row.getList(index).stream().mapToDouble(v -> ((Number) v).doubleValue()).toArray(), decoder);
            case VECTOR -> fromValues(((Vector) row.get(index)).toArray(), decoder);
        };
    }

    private static byte[] fromImageStruct(Row image, ImageDecoder decoder) {
        int height = image.getAs("height");
        int width = image.getAs("width");
        int channels = image.getAs("nChannels");
        byte[] data = image.getAs("data");
        if (height < 1 || width < 1 || channels < 1) {
            // what the image source gives a file it could not decode (when not dropping invalid ones)
            throw new BadImage(QuarantineReason.CORRUPT_IMAGE, "the image data source could not decode this image");
        }
        if (channels != 1 && channels != 3 && channels != 4) {
            throw new BadImage(QuarantineReason.UNSUPPORTED_FORMAT, channels + " channels (1, 3 or 4 are read)");
        }
        int plane = height * width;
        if (data == null || data.length != plane * channels) {
            throw new BadImage(QuarantineReason.CORRUPT_IMAGE, "image data holds " + (data == null ? 0 : data.length)
                    + " bytes, not " + height + "x" + width + "x" + channels);
        }
        if (channels == 1) {
            return decoder.fromChw(data, 1, height, width);
        }
        byte[] rgb = new byte[3 * plane];
        for (int i = 0; i < plane; i++) {
            rgb[i] = data[i * channels + 2]; // B, G, R(, A) interleaved: OpenCV's order, which the image source keeps
            rgb[plane + i] = data[i * channels + 1];
            rgb[2 * plane + i] = data[i * channels];
        }
        return decoder.fromChw(rgb, 3, height, width);
    }

    private static byte[] fromValues(double[] values, ImageDecoder decoder) {
        if (values.length != decoder.imageBytes()) {
            throw new BadImage(QuarantineReason.WRONG_SIZE, values.length + " values, expected " + decoder.imageBytes() + " for input "
                    + decoder.height() + "x" + decoder.width() + "x" + decoder.channels());
        }
        byte[] pixels = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            long v = Math.round(values[i]);
            if (v < 0 || v > 255 || Double.isNaN(values[i])) {
                throw new BadImage(QuarantineReason.CORRUPT_IMAGE, "value " + values[i] + " at " + i + " is not a pixel value 0-255");
            }
            pixels[i] = (byte) v;
        }
        return pixels;
    }
}
