package sparkconv.spark;

import java.util.List;

import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The Parquet tables sparkconv writes, with their versions: the contracts between a job and whoever reads its output,
 * written down in one place as the shard manifest is (README, "Formats"). Any change to a schema is a new version
 * ({@code ParquetSchemasTest} pins every version's columns), so a reader can tell what it reads.
 */
public final class ParquetSchemas {
    private ParquetSchemas() {
    }

    /** One table's columns, its version and where it is written. */
    public record Schema(String name, int version, String writtenTo, StructType type) {
    }

    /** preprocess {@code <out>/quarantine}: every image input that was not used, with why. */
    public static final Schema IMAGE_QUARANTINE = new Schema("image-quarantine", 1, "preprocess <out>/quarantine", new StructType()
            .add("path", DataTypes.StringType, false)
            .add("reason", DataTypes.StringType, false)
            .add("bytes", DataTypes.LongType, false)
            .add("detail", DataTypes.StringType, true));

    /** One entry of a score's {@code top_k} list. */
    public static final StructType TOP_K_ENTRY = new StructType()
            .add("class_index", DataTypes.IntegerType, false)
            .add("class_name", DataTypes.StringType, false)
            .add("probability", DataTypes.DoubleType, false);

    /** The columns scoring adds to an input (score's Parquet: {@code path} first; ImageScorer.transform: after the input's). */
    public static final StructType SCORE_COLUMNS = new StructType()
            .add("predicted_class", DataTypes.IntegerType, true)
            .add("class_name", DataTypes.StringType, true)
            .add("probability", DataTypes.DoubleType, true)
            .add("top_k", DataTypes.createArrayType(TOP_K_ENTRY, false), true)
            .add("model_name", DataTypes.StringType, false)
            .add("model_version", DataTypes.StringType, false)
            .add("scored_at", DataTypes.TimestampType, false)
            .add("error", DataTypes.StringType, true);

    /** score {@code --out}: one row per input image (unreadable ones with an error and null scores). */
    public static final Schema SCORES = new Schema("scores", 1, "score --out",
            prepend(new StructType().add("path", DataTypes.StringType, false), SCORE_COLUMNS));

    /** nifty ingest {@code <out>/prices}: validated daily prices, sorted by symbol and date. */
    public static final Schema OHLC_PRICES = new Schema("ohlc-prices", 1, "nifty ingest <out>/prices", new StructType()
            .add("symbol", DataTypes.StringType, false)
            .add("date", DataTypes.DateType, false)
            .add("open", DataTypes.DoubleType, false)
            .add("high", DataTypes.DoubleType, false)
            .add("low", DataTypes.DoubleType, false)
            .add("close", DataTypes.DoubleType, false)
            .add("volume", DataTypes.DoubleType, true));

    /** nifty ingest {@code <out>/quarantine}: every rejected CSV row with its reason. */
    public static final Schema OHLC_QUARANTINE = new Schema("ohlc-quarantine", 1, "nifty ingest <out>/quarantine", new StructType()
            .add("source", DataTypes.StringType, false)
            .add("line", DataTypes.IntegerType, false)
            .add("symbol", DataTypes.StringType, true)
            .add("raw", DataTypes.StringType, false)
            .add("reason", DataTypes.StringType, false)
            .add("detail", DataTypes.StringType, false));

    public static final List<Schema> ALL = List.of(IMAGE_QUARANTINE, SCORES, OHLC_PRICES, OHLC_QUARANTINE);

    private static StructType prepend(StructType first, StructType rest) {
        StructType out = first;
        for (var f : rest.fields()) {
            out = out.add(f);
        }
        return out;
    }
}
