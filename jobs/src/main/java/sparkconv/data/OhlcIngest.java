package sparkconv.data;

import java.io.Serializable;
import java.sql.Date;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;

import sparkconv.SparkconvException;
import sparkconv.spark.Fs;
import sparkconv.spark.JobDescriptions;
import sparkconv.spark.ParquetSchemas;
import sparkconv.spark.SparkSessions;
import sparkconv.spark.StagedCommit;

/**
 * OHLC CSV files into an ingested directory, as a Spark job: {@code prices/} (Parquet, schema {@link #PRICES_SCHEMA},
 * sorted by symbol and date), {@code quarantine/} (Parquet, {@link #QUARANTINE_SCHEMA}: every rejected row with its
 * reason), {@code summary.json} and {@code _SUCCESS}. Everything is staged and moved into place only when complete,
 * so a failed run leaves nothing half-written.
 */
public final class OhlcIngest {
    public static final String PRICES = "prices";
    public static final String QUARANTINE = "quarantine";
    public static final String SUMMARY = "summary.json";
    public static final StructType PRICES_SCHEMA = ParquetSchemas.OHLC_PRICES.type();
    public static final StructType QUARANTINE_SCHEMA = ParquetSchemas.OHLC_QUARANTINE.type();
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private OhlcIngest() {
    }

    /** Counts of one ingest: what the CLI prints and {@code summary.json} holds. */
    public record Summary(List<String> sources, long valid, long quarantined, Map<String, Long> rowsBySymbol,
                          Map<String, Long> quarantinedByReason) implements Serializable {
        public String toJson() {
            try {
                return JSON.writeValueAsString(this);
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    /** A file's parse on an executor: either parsed rows or the one-line error that makes the whole ingest fail. */
    record FileOutcome(OhlcCsv.Parsed parsed, String error) implements Serializable {
    }

    /** @param csv CSV files (any Hadoop URI); a file's symbol is its name unless it has a Symbol column */
    public record Params(List<String> csv, String out, boolean overwrite) {
        public Params {
            if (csv.isEmpty()) {
                throw new SparkconvException("no CSV files given (--csv URI...)");
            }
            csv = List.copyOf(csv);
        }
    }

    /** The inputs, checked without Spark: every CSV file exists, and the output does not unless it may be replaced. */
    public static void check(Params p, Configuration conf) {
        for (String u : p.csv()) {
            if (!Fs.exists(new Path(Fs.uri(u)), conf)) {
                throw new SparkconvException(u + ": file not found");
            }
        }
        if (Fs.exists(Fs.path(p.out()), conf) && !p.overwrite()) {
            throw new SparkconvException(p.out() + ": already exists (pass --overwrite to replace it)");
        }
    }

    public static Summary ingest(SparkSession spark, Params p) {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        check(p, conf);
        List<String> uris = p.csv().stream().map(Fs::uri).toList();
        Path target = Fs.path(p.out());

        JavaSparkContext jsc = SparkSessions.javaContext(spark);
        List<FileOutcome> outcomes = JobDescriptions.step(spark.sparkContext(), "parse " + uris.size() + " CSV file(s)",
                () -> jsc.parallelize(uris, Math.max(1, Math.min(uris.size(), jsc.defaultParallelism())))
                        .map(OhlcIngest::parseFile)
                        .collect());
        List<OhlcCsv.Parsed> parsed = new ArrayList<>();
        for (FileOutcome o : outcomes) {
            if (o.error() != null) {
                throw new SparkconvException(o.error());
            }
            parsed.add(o.parsed());
        }
        OhlcCsv.Result result = OhlcCsv.sequence(parsed);

        Map<String, Long> bySymbol = new TreeMap<>();
        List<Row> priceRows = new ArrayList<>(result.rows().size());
        for (OhlcRow r : result.rows()) {
            bySymbol.merge(r.symbol(), 1L, Long::sum);
            priceRows.add(RowFactory.create(r.symbol(), Date.valueOf(r.date()), r.open(), r.high(), r.low(), r.close(),
                    Double.isNaN(r.volume()) ? null : r.volume()));
        }
        Map<String, Long> byReason = new TreeMap<>();
        List<Row> quarantineRows = new ArrayList<>(result.quarantined().size());
        for (QuarantinedRow q : result.quarantined()) {
            byReason.merge(q.reason(), 1L, Long::sum);
            quarantineRows.add(RowFactory.create(q.source(), q.line(), q.symbol(), q.raw(), q.reason(), q.detail()));
        }
        Summary summary = new Summary(uris, priceRows.size(), quarantineRows.size(), bySymbol, byReason);

        StagedCommit.commit(target, conf, true, "ingested prices", staging -> {
            JobDescriptions.step(spark.sparkContext(), "write " + priceRows.size() + " price rows and "
                    + quarantineRows.size() + " quarantined rows as Parquet", () -> {
                        spark.createDataFrame(priceRows, PRICES_SCHEMA).orderBy("symbol", "date").coalesce(1)
                                .write().mode(SaveMode.ErrorIfExists).parquet(new Path(staging, PRICES).toString());
                        spark.createDataFrame(quarantineRows, QUARANTINE_SCHEMA).orderBy("source", "line").coalesce(1)
                                .write().mode(SaveMode.ErrorIfExists).parquet(new Path(staging, QUARANTINE).toString());
                        return null;
                    });
            Fs.writeString(new Path(staging, SUMMARY), summary.toJson(), conf);
            return null;
        });
        return summary;
    }

    static FileOutcome parseFile(String uri) {
        try {
            String text = Fs.readString(new Path(uri), new Configuration());
            return new FileOutcome(OhlcCsv.parse(uri, text, OhlcCsv.symbolFromFileName(uri)), null);
        } catch (SparkconvException e) {
            return new FileOutcome(null, e.getMessage());
        }
    }

    /** {@code dir} is a complete ingested directory (what render, walk-forward and evaluate read). */
    public static void checkIngested(String dir, Configuration conf) {
        if (!Fs.exists(Fs.child(dir, StagedCommit.SUCCESS), conf)) {
            throw new SparkconvException(dir + ": not a complete ingested OHLC directory (no " + StagedCommit.SUCCESS + "; run nifty ingest first)");
        }
    }

    /** The validated prices of an ingested directory, sorted by symbol and date. */
    public static Dataset<Row> prices(SparkSession spark, String dir) {
        checkIngested(dir, spark.sparkContext().hadoopConfiguration());
        return spark.read().schema(PRICES_SCHEMA).parquet(Fs.child(dir, PRICES).toString()).orderBy("symbol", "date");
    }

    /** Every validated row of an ingested directory, sorted by symbol and date (NaN volume where none was given). */
    public static List<OhlcRow> readRows(SparkSession spark, String dir) {
        List<OhlcRow> rows = new ArrayList<>();
        for (Row r : prices(spark, dir).collectAsList()) {
            rows.add(new OhlcRow(r.getString(0), r.getDate(1).toLocalDate(), r.getDouble(2), r.getDouble(3), r.getDouble(4),
                    r.getDouble(5), r.isNullAt(6) ? Double.NaN : r.getDouble(6)));
        }
        return rows;
    }
}
