package sparkconv.ml;

import java.io.IOException;
import java.io.Serializable;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.ml.image.ImageSchema$;
import org.apache.spark.ml.source.image.ImageFileFormat;
import org.apache.spark.ml.source.image.ImageOptions;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.encoders.ExpressionEncoder;
import org.apache.spark.sql.catalyst.encoders.ExpressionEncoder$;
import org.apache.spark.sql.catalyst.expressions.UnsafeRow;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.execution.columnar.InMemoryRelation;
import org.apache.spark.sql.execution.datasources.HadoopFsRelation;
import org.apache.spark.sql.execution.datasources.LogicalRelation;
import org.apache.spark.sql.execution.datasources.PartitionedFile;
import org.apache.spark.sql.sources.Filter;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.SerializableConfiguration;

import scala.Option;
import scala.collection.Iterator;
import scala.collection.Seq;
import scala.collection.immutable.Map;
import scala.runtime.AbstractFunction1;
import scala.runtime.AbstractPartialFunction;

/**
 * Reads Spark's {@code image} data source without its cost per file. Spark 3.5's {@code ImageFileFormat} builds a new
 * row serializer for every file it reads ({@code RowEncoder(requiredSchema).createSerializer()} inside its per-file
 * reader), and the serializer generates its projection's Java source again on its first row: in a JFR profile of
 * 6,000 28x28 PNGs read through the source, 1,396 of the tasks' 1,988 samples were in {@code GenerateUnsafeProjection},
 * 81 in the decoding ({@code ImageSchema.decode}). Nested column pruning does not help: the source decodes every
 * file whenever any field of {@code image} is read.
 *
 * <p>{@link #of} gives the same DataFrame with each {@code image}-source relation of its plan read by {@link Format}:
 * Spark's reader, step for step (the file's bytes, {@code ImageSchema.decode}, {@code dropInvalid}, the invalid-image
 * row), with one serializer per task. The relation keeps its files, options, partitioning and output attributes, so
 * the rows, their order and the plan above them are the same, and the pixels are Spark's own, bit for bit. A plan
 * without such a relation, a streaming one, or one that reads a cached DataFrame (whose cache it should keep using) is
 * returned as it is.
 */
final class SparkImageSource {
    private SparkImageSource() {
    }

    /** {@code dataset} with its {@code image}-source relations read by {@link Format}, or as it is (see above). */
    static Dataset<Row> of(Dataset<?> dataset) {
        Dataset<Row> df = dataset.toDF();
        if (df.isStreaming()) {
            return df;
        }
        LogicalPlan plan = df.queryExecution().analyzed();
        if (plan.find(SparkImageSource::isImageScan).isEmpty()
                || df.queryExecution().withCachedData().find(p -> p instanceof InMemoryRelation).isDefined()) {
            return df;
        }
        LogicalPlan read = plan.transformUp(new AbstractPartialFunction<>() {
            @Override
            public boolean isDefinedAt(LogicalPlan p) {
                return isImageScan(p);
            }

            @Override
            public <A1 extends LogicalPlan, B1> B1 applyOrElse(A1 p, scala.Function1<A1, B1> otherwise) {
                if (!isImageScan(p)) {
                    return otherwise.apply(p);
                }
                LogicalRelation scan = (LogicalRelation) p;
                HadoopFsRelation files = (HadoopFsRelation) scan.relation();
                HadoopFsRelation fast = files.copy(files.location(), files.partitionSchema(), files.dataSchema(), files.bucketSpec(),
                        new Format(), files.options(), files.sparkSession());
                @SuppressWarnings("unchecked")
                B1 copy = (B1) scan.copy(fast, scan.output(), scan.catalogTable(), scan.isStreaming());
                return copy;
            }
        });
        return Dataset.ofRows(df.sparkSession(), read);
    }

    /** Whether {@code plan} reads files with Spark's own {@code image} source (not already with {@link Format}). */
    private static boolean isImageScan(LogicalPlan plan) {
        return plan instanceof LogicalRelation scan && scan.relation() instanceof HadoopFsRelation files
                && files.fileFormat().getClass() == ImageFileFormat.class;
    }

    /**
     * Spark's {@code ImageFileFormat} with a reader that keeps one row serializer per task; the rest is inherited, so the
     * scan lists, splits (not at all), names and plans the files as Spark's own does.
     */
    static final class Format extends ImageFileFormat {
        @Override
        public scala.Function1<PartitionedFile, Iterator<InternalRow>> buildReader(SparkSession spark, StructType dataSchema,
                StructType partitionSchema, StructType requiredSchema, Seq<Filter> filters, Map<String, String> options,
                Configuration hadoopConf) {
            if (requiredSchema.length() > 1) {
                throw new IllegalArgumentException("Image data source only produces a single data column named \"image\".");
            }
            Broadcast<SerializableConfiguration> conf = JavaSparkContext.fromSparkContext(spark.sparkContext())
                    .broadcast(new SerializableConfiguration(hadoopConf));
            return new Reader(conf, requiredSchema, new ImageOptions(options).dropInvalid());
        }
    }

    /**
     * What {@code ImageFileFormat}'s reader does with a file, in its order; only the serializer is built once, on the
     * first file of the task (each task deserializes its own reader, so no two threads share one).
     */
    private static final class Reader extends AbstractFunction1<PartitionedFile, Iterator<InternalRow>> implements Serializable {
        private final Broadcast<SerializableConfiguration> conf;
        private final StructType requiredSchema;
        private final boolean dropInvalid;
        private transient ExpressionEncoder.Serializer<Row> serializer;

        Reader(Broadcast<SerializableConfiguration> conf, StructType requiredSchema, boolean dropInvalid) {
            this.conf = conf;
            this.requiredSchema = requiredSchema;
            this.dropInvalid = dropInvalid;
        }

        @Override
        public Iterator<InternalRow> apply(PartitionedFile file) {
            if (!dropInvalid && requiredSchema.isEmpty()) {
                return one(new UnsafeRow(0));
            }
            String origin = file.urlEncodedPath();
            Path path = file.toPath();
            byte[] bytes;
            try (FSDataInputStream in = path.getFileSystem(conf.value().value()).open(path)) {
                bytes = in.readAllBytes();
            } catch (IOException e) {
                // as Spark's reader throws it: the scan turns a missing file into its own error, or skips it
                // (ignoreMissingFiles, ignoreCorruptFiles), by the exception's class
                throw Reader.<RuntimeException>unchecked(e);
            }
            Option<Row> image = ImageSchema$.MODULE$.decode(origin, bytes);
            if (image.isEmpty() && dropInvalid) {
                return scala.collection.JavaConverters.asScalaIterator(java.util.Collections.emptyIterator());
            }
            if (requiredSchema.isEmpty()) {
                return one(new UnsafeRow(0));
            }
            if (serializer == null) {
                serializer = ExpressionEncoder$.MODULE$.apply(requiredSchema).createSerializer();
            }
            return one(serializer.apply(image.isDefined() ? image.get() : ImageSchema$.MODULE$.invalidImageRow(origin)));
        }

        private static Iterator<InternalRow> one(InternalRow row) {
            return scala.collection.Iterator$.MODULE$.single(row);
        }

        @SuppressWarnings("unchecked")
        private static <E extends Throwable> E unchecked(Throwable e) throws E {
            throw (E) e;
        }
    }
}
