package sparkconv.score;

import java.io.Serializable;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.BinaryType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.nd4j.linalg.api.ndarray.INDArray;
import scala.collection.JavaConverters;

import sparkconv.SparkconvException;
import sparkconv.data.BadImage;
import sparkconv.data.ImageDecoder;
import sparkconv.shards.ShardWriter;

/**
 * Scores encoded images (PNG / JPEG bytes) with a stored model: decoded, resized and normalised exactly as the model's
 * metadata says, then run through the network in batches. As a transformer for a user's own Spark job:
 * {@code new ImageScorer(model, 5, 64).transform(df, "content")} returns {@code df} with the score columns added.
 * An image that cannot be decoded gets an {@code error} and null scores; it never fails the job.
 */
public final class ImageScorer implements Serializable {
    public static final StructType TOP_K_ENTRY = new StructType()
            .add("class_index", DataTypes.IntegerType, false)
            .add("class_name", DataTypes.StringType, false)
            .add("probability", DataTypes.DoubleType, false);
    /** The columns {@link #transform} adds. */
    public static final StructType SCORE_COLUMNS = new StructType()
            .add("predicted_class", DataTypes.IntegerType, true)
            .add("class_name", DataTypes.StringType, true)
            .add("probability", DataTypes.DoubleType, true)
            .add("top_k", DataTypes.createArrayType(TOP_K_ENTRY, false), true)
            .add("model_name", DataTypes.StringType, false)
            .add("model_version", DataTypes.StringType, false)
            .add("scored_at", DataTypes.TimestampType, false)
            .add("error", DataTypes.StringType, true);

    private final ScoringModel model;
    private final int topK;
    private final int batchSize;
    private final ImageDecoder decoder;
    private final Timestamp scoredAt;

    public ImageScorer(ScoringModel model, int topK, int batchSize) {
        this(model, topK, batchSize, ImageDecoder.DEFAULT_MAX_PIXELS);
    }

    public ImageScorer(ScoringModel model, int topK, int batchSize, long maxPixels) {
        if (topK < 1) {
            throw new SparkconvException("--top-k must be at least 1, got " + topK);
        }
        if (batchSize < 1) {
            throw new SparkconvException("--batch must be at least 1, got " + batchSize);
        }
        this.model = model;
        this.topK = Math.min(topK, model.classes().size());
        this.batchSize = batchSize;
        this.decoder = new ImageDecoder(model.channels(), model.height(), model.width(), maxPixels);
        this.scoredAt = new Timestamp(System.currentTimeMillis());
    }

    public ScoringModel model() {
        return model;
    }

    /** {@code images} with the {@link #SCORE_COLUMNS} appended; {@code bytesColumn} holds the encoded images. */
    public Dataset<Row> transform(Dataset<Row> images, String bytesColumn) {
        StructType in = images.schema();
        int bytesIndex = Arrays.asList(in.fieldNames()).indexOf(bytesColumn);
        if (bytesIndex < 0 || !(in.fields()[bytesIndex].dataType() instanceof BinaryType)) {
            throw new SparkconvException("input has no binary column '" + bytesColumn + "' (columns: " + String.join(", ", in.fieldNames()) + ")");
        }
        for (String c : SCORE_COLUMNS.fieldNames()) {
            if (Arrays.asList(in.fieldNames()).contains(c)) {
                throw new SparkconvException("input already has a column '" + c + "'; rename it before scoring");
            }
        }
        StructType out = in;
        for (StructField f : SCORE_COLUMNS.fields()) {
            out = out.add(f);
        }
        MapPartitionsFunction<Row, Row> score = rows -> new Batches(rows, bytesIndex);
        return images.mapPartitions(score, Encoders.row(out));
    }

    /** Class probabilities of decoded pixels (N images of C*H*W bytes), with the same normalisation as the shards. */
    public INDArray probabilities(List<byte[]> pixels) {
        int size = decoder.imageBytes();
        byte[] all = new byte[pixels.size() * size];
        for (int i = 0; i < pixels.size(); i++) {
            System.arraycopy(pixels.get(i), 0, all, i * size, size);
        }
        INDArray features = ShardWriter.toDataSet(all, new int[pixels.size()], model.channels(), model.height(), model.width(),
                model.classes().size(), model.normalisation()).getFeatures();
        return ModelCache.network(model).output(features, false);
    }

    /** Pulls up to batchSize rows, scores the decodable ones in one forward pass, and hands the rows out. */
    private final class Batches implements Iterator<Row> {
        private final Iterator<Row> rows;
        private final int bytesIndex;
        private final List<Row> ready = new ArrayList<>();
        private int next;

        Batches(Iterator<Row> rows, int bytesIndex) {
            this.rows = rows;
            this.bytesIndex = bytesIndex;
        }

        @Override
        public boolean hasNext() {
            if (next == ready.size()) {
                ready.clear();
                next = 0;
                if (rows.hasNext()) {
                    scoreBatch();
                }
            }
            return next < ready.size();
        }

        @Override
        public Row next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            return ready.get(next++);
        }

        private void scoreBatch() {
            List<Row> batch = new ArrayList<>(batchSize);
            List<byte[]> pixels = new ArrayList<>(batchSize);
            String[] errors = new String[batchSize];
            int[] slot = new int[batchSize];
            while (batch.size() < batchSize && rows.hasNext()) {
                Row row = rows.next();
                int i = batch.size();
                batch.add(row);
                slot[i] = -1;
                if (row.isNullAt(bytesIndex)) {
                    errors[i] = "no image bytes";
                    continue;
                }
                try {
                    pixels.add(decoder.decode(row.getAs(bytesIndex)));
                    slot[i] = pixels.size() - 1;
                } catch (BadImage bad) {
                    errors[i] = bad.reason().code() + ": " + bad.getMessage();
                }
            }
            // one copy of the whole batch: a row view per image would cost a native shape-info allocation each
            double[][] probs = pixels.isEmpty() ? null : probabilities(pixels).toDoubleMatrix();
            for (int i = 0; i < batch.size(); i++) {
                ready.add(withScores(batch.get(i), slot[i] < 0 ? null : probs[slot[i]], errors[i]));
            }
        }
    }

    private Row withScores(Row row, double[] p, String error) {
        Object[] values = new Object[row.length() + SCORE_COLUMNS.size()];
        for (int i = 0; i < row.length(); i++) {
            values[i] = row.get(i);
        }
        int at = row.length();
        if (p != null) {
            Integer[] order = new Integer[p.length];
            for (int c = 0; c < p.length; c++) {
                order[c] = c;
            }
            Arrays.sort(order, (a, b) -> Double.compare(p[b], p[a]));
            List<Row> top = new ArrayList<>(topK);
            for (int k = 0; k < topK; k++) {
                top.add(RowFactory.create(order[k], model.classes().get(order[k]), p[order[k]]));
            }
            values[at] = order[0];
            values[at + 1] = model.classes().get(order[0]);
            values[at + 2] = p[order[0]];
            values[at + 3] = JavaConverters.asScalaBuffer(top); // Row encoders take Scala sequences, not java.util.List
        }
        values[at + 4] = model.name();
        values[at + 5] = model.version();
        values[at + 6] = scoredAt;
        values[at + 7] = error;
        return RowFactory.create(values);
    }
}
