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
import org.nd4j.linalg.factory.Nd4j;

import sparkconv.SparkconvException;
import sparkconv.data.BadImage;
import sparkconv.data.ImageDecoder;
import sparkconv.shards.ShardWriter;
import sparkconv.spark.FaultPoint;
import sparkconv.spark.ParquetSchemas;

/**
 * Scores encoded images (PNG / JPEG bytes) with a stored model: decoded, resized and normalised exactly as the model's
 * metadata says, then run through the network in batches. As a transformer for a user's own Spark job:
 * {@code new ImageScorer(model, 5, 64).transform(df, "content")} returns {@code df} with the score columns added.
 * An image that cannot be decoded gets an {@code error} and null scores; it never fails the job.
 */
public final class ImageScorer implements Serializable {
    public static final StructType TOP_K_ENTRY = ParquetSchemas.TOP_K_ENTRY;
    /** The columns {@link #transform} adds. */
    public static final StructType SCORE_COLUMNS = ParquetSchemas.SCORE_COLUMNS;

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
        MapPartitionsFunction<Row, Row> score = rows -> score(rows, row -> row.isNullAt(bytesIndex) ? null : row.getAs(bytesIndex),
                row -> row.isNullAt(bytesIndex) ? "no image bytes" : null, (row, scores) -> {
                    Object[] values = new Object[row.length() + scores.length];
                    for (int i = 0; i < row.length(); i++) {
                        values[i] = row.get(i);
                    }
                    System.arraycopy(scores, 0, values, row.length(), scores.length);
                    return RowFactory.create(values);
                });
        return images.mapPartitions(score, Encoders.row(out));
    }

    /** How a scored item becomes an output row, given the values of the {@link #SCORE_COLUMNS}. */
    public interface RowMaker<T> extends Serializable {
        Row row(T item, Object[] scores);
    }

    /**
     * Scores items in batches of the batch size: each item's encoded image is decoded, and the decodable ones of a batch
     * go through the network in one forward pass. An item with a known error (or an image that cannot be decoded) gets
     * that error and null scores.
     *
     * @param bytes the item's encoded image (null when it has none)
     * @param error why the item cannot be scored before decoding, or null
     */
    public <T> Iterator<Row> score(Iterator<T> items, java.util.function.Function<T, byte[]> bytes,
                                   java.util.function.Function<T, String> error, RowMaker<T> out) {
        return scorePixels(items, item -> decoder.decode(bytes.apply(item)), error,
                (item, p, at, e) -> out.row(item, scores(p, at, e)));
    }

    /** How a scored item becomes an output row from its class probabilities {@code p[at .. at + classes)}, or ({@code at < 0}) its error. */
    public interface ProbabilityRowMaker<T> extends Serializable {
        Row row(T item, float[] p, int at, String error);
    }

    /**
     * {@link #score} for items whose pixels come some other way than an encoded file (Spark's image structs, arrays):
     * {@code pixels} gives the item's channel-first pixels at the model's shape, or throws {@link BadImage}. The same
     * batches and forward passes as {@link #score}; the caller makes the rows from the probabilities.
     */
    public <T> Iterator<Row> scorePixels(Iterator<T> items, java.util.function.Function<T, byte[]> pixels,
                                         java.util.function.Function<T, String> error, ProbabilityRowMaker<T> out) {
        FaultPoint.reached();
        return new Batches<>(items, pixels, error, out);
    }

    /** The decoder that makes pixels at the model's shape (also for already-decoded images: {@link ImageDecoder#fromChw}). */
    public ImageDecoder decoder() {
        return decoder;
    }

    /** Class probabilities of decoded pixels (N images of C*H*W bytes), with the same normalisation as the shards. */
    public INDArray probabilities(List<byte[]> pixels) {
        int size = decoder.imageBytes();
        byte[] all = new byte[pixels.size() * size];
        for (int i = 0; i < pixels.size(); i++) {
            System.arraycopy(pixels.get(i), 0, all, i * size, size);
        }
        // through a buffer: Nd4j.create(float[], shape, order) copies value by value, twice as slow for a batch
        INDArray features = Nd4j.create(Nd4j.createBuffer(ShardWriter.standardise(all, model.normalisation())),
                pixels.size(), model.channels(), model.height(), model.width());
        return probabilities(features);
    }

    /** Class probabilities of normalised features (N, C, H, W), from this JVM's copy of the network. */
    INDArray probabilities(INDArray features) {
        return ModelCache.network(model).output(features, false);
    }

    /** Pulls up to batchSize items, scores the decodable ones in one forward pass, and hands the rows out. */
    private final class Batches<T> implements Iterator<Row> {
        private final Iterator<T> items;
        private final java.util.function.Function<T, byte[]> pixels;
        private final java.util.function.Function<T, String> knownError;
        private final ProbabilityRowMaker<T> out;
        private final List<Row> ready = new ArrayList<>();
        private int next;

        Batches(Iterator<T> items, java.util.function.Function<T, byte[]> pixels, java.util.function.Function<T, String> knownError,
                ProbabilityRowMaker<T> out) {
            this.items = items;
            this.pixels = pixels;
            this.knownError = knownError;
            this.out = out;
        }

        @Override
        public boolean hasNext() {
            if (next == ready.size()) {
                ready.clear();
                next = 0;
                if (items.hasNext()) {
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
            List<T> batch = new ArrayList<>(batchSize);
            List<byte[]> decoded = new ArrayList<>(batchSize);
            String[] errors = new String[batchSize];
            int[] slot = new int[batchSize];
            while (batch.size() < batchSize && items.hasNext()) {
                T item = items.next();
                int i = batch.size();
                batch.add(item);
                slot[i] = -1;
                errors[i] = knownError.apply(item);
                if (errors[i] != null) {
                    continue;
                }
                try {
                    decoded.add(pixels.apply(item));
                    slot[i] = decoded.size() - 1;
                } catch (BadImage bad) {
                    errors[i] = bad.reason().code() + ": " + bad.getMessage();
                }
            }
            float[] probs = decoded.isEmpty() ? null : flat(probabilities(decoded));
            int classes = model.classes().size();
            for (int i = 0; i < batch.size(); i++) {
                ready.add(out.row(batch.get(i), probs, slot[i] * classes, errors[i]));
            }
        }
    }

    /** The {@code top_k} value of the {@link #SCORE_COLUMNS} (up to this scorer's k classes) for the probabilities {@code p[at .. at + classes)}. */
    public Object topK(float[] p, int at) {
        return scores(p, at, null)[SCORE_COLUMNS.fieldIndex("top_k")];
    }

    /** All values, row after row, in one copy: a row view per image would cost a native shape-info allocation each. */
    static float[] flat(INDArray probabilities) {
        return probabilities.dup('c').data().asFloat();
    }

    /**
     * The values of the {@link #SCORE_COLUMNS} for the probabilities {@code p[at .. at + classes)}, or for an error
     * ({@code at < 0}): the top k by a partial selection (ties to the lower class index, as a stable sort would).
     */
    Object[] scores(float[] p, int at, String error) {
        Object[] values = new Object[SCORE_COLUMNS.size()];
        if (at >= 0) {
            int classes = model.classes().size();
            boolean[] taken = new boolean[classes];
            Row[] top = new Row[topK];
            for (int k = 0; k < topK; k++) {
                int best = -1;
                for (int c = 0; c < classes; c++) {
                    if (!taken[c] && (best < 0 || p[at + c] > p[at + best])) {
                        best = c;
                    }
                }
                taken[best] = true;
                top[k] = RowFactory.create(best, model.classes().get(best), (double) p[at + best]);
            }
            values[0] = top[0].get(0);
            values[1] = top[0].get(1);
            values[2] = top[0].get(2);
            values[3] = scala.collection.mutable.WrappedArray.make(top); // Row encoders take Scala sequences, not java.util.List
        }
        values[4] = model.name();
        values[5] = model.version();
        values[6] = scoredAt;
        values[7] = error;
        return values;
    }
}
