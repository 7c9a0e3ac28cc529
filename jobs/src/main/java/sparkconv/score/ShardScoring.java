package sparkconv.score;

import java.util.ArrayList;
import java.util.List;

import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

import sparkconv.SparkconvException;
import sparkconv.shards.Manifest;
import sparkconv.shards.ShardFiles;
import sparkconv.spark.SparkSessions;

/**
 * Scores the examples of a shard directory (every split): one forward pass per shard file, output path
 * {@code <shard file URI>#<example index>}, label the class of the shard's own one-hot label. Shard features are already
 * normalised by the manifest's statistics; when the model's differ they are mapped onto the model's (both are affine).
 */
final class ShardScoring {
    private ShardScoring() {
    }

    static JavaRDD<Row> score(SparkSession spark, String dir, ImageScorer scorer, LabelTally tally) {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        Manifest m = Manifest.read(dir, conf);
        ScoringModel model = scorer.model();
        if (m.shape().channels() != model.channels() || m.shape().height() != model.height() || m.shape().width() != model.width()) {
            throw new SparkconvException(dir + ": shards hold " + m.shape().height() + "x" + m.shape().width() + "x" + m.shape().channels()
                    + " examples but " + model + " takes " + model.shape());
        }
        List<String> uris = new ArrayList<>();
        for (String split : m.splits().keySet()) {
            uris.addAll(m.shardUris(dir, split));
        }
        if (uris.isEmpty()) {
            throw new SparkconvException(dir + ": the shard directory holds no shards");
        }
        Manifest.Normalisation from = m.normalisation();
        Manifest.Normalisation to = model.normalisation();
        // raw = (f * std + mean) / scale, then (raw * scale' - mean') / std': f * a + b
        double a = from.std() / from.scale() * to.scale() / to.std();
        double b = (from.mean() / from.scale() * to.scale() - to.mean()) / to.std();
        boolean same = from.equals(to);
        List<String> classes = m.classes();
        int parallelism = SparkSessions.javaContext(spark).defaultParallelism();
        return SparkSessions.javaContext(spark).parallelize(uris, Math.min(uris.size(), parallelism * 4)).flatMap(uri -> {
            DataSet ds = ShardFiles.read(uri);
            INDArray features = same ? ds.getFeatures() : ds.getFeatures().mul(a).addi(b);
            float[] probs = ImageScorer.flat(scorer.probabilities(features));
            float[] labels = tally == null ? null : ImageScorer.flat(ds.getLabels());
            int n = (int) features.size(0);
            int numClasses = model.classes().size();
            List<Row> rows = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                String label = labels == null ? null : classes.get(argMax(labels, i * classes.size(), classes.size()));
                rows.add(ScoreJob.output(uri + "#" + i, label, scorer.scores(probs, i * numClasses, null), tally));
            }
            return rows.iterator();
        });
    }

    private static int argMax(float[] v, int from, int n) {
        int best = 0;
        for (int c = 1; c < n; c++) {
            best = v[from + c] > v[from + best] ? c : best;
        }
        return best;
    }
}
