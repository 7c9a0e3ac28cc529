package sparkconv.eval;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;

import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

import sparkconv.shards.Manifest;
import sparkconv.shards.ShardFiles;

/**
 * Per-example class probabilities of a network on one split of a shard directory, in shard order, computed on Spark
 * executors (the model is broadcast once and restored once per partition). Unlike {@link SparkEvaluator}, which only
 * accumulates a confusion matrix, this keeps each example's scores, for AUC, bootstrap intervals and trading signals.
 */
public final class ShardPredictions {
    private ShardPredictions() {
    }

    /** Probabilities (examples x classes) and the labels stored in the shards. */
    public record Predictions(float[][] probabilities, int[] labels) {
        public int[] predicted() {
            int[] p = new int[labels.length];
            for (int i = 0; i < p.length; i++) {
                for (int c = 1; c < probabilities[i].length; c++) {
                    if (probabilities[i][c] > probabilities[i][p[i]]) {
                        p[i] = c;
                    }
                }
            }
            return p;
        }

        /** An ensemble's predictions: each example's class probabilities averaged over the members (same labels). */
        public static Predictions mean(List<Predictions> members) {
            Predictions first = members.get(0);
            if (members.size() == 1) {
                return first;
            }
            float[][] mean = new float[first.labels.length][];
            for (int i = 0; i < mean.length; i++) {
                double[] sum = new double[first.probabilities[i].length];
                for (Predictions m : members) {
                    for (int c = 0; c < sum.length; c++) {
                        sum[c] += m.probabilities[i][c];
                    }
                }
                mean[i] = new float[sum.length];
                for (int c = 0; c < sum.length; c++) {
                    mean[i][c] = (float) (sum[c] / members.size());
                }
            }
            return new Predictions(mean, first.labels);
        }

        public double[] score(int positiveClass) {
            double[] s = new double[labels.length];
            for (int i = 0; i < s.length; i++) {
                s[i] = probabilities[i][positiveClass];
            }
            return s;
        }
    }

    record ShardOutput(int index, float[][] probabilities, int[] labels) implements Serializable {
    }

    public static Predictions predict(JavaSparkContext jsc, MultiLayerNetwork net, String shardDir, Manifest manifest, String split) {
        List<String> paths = manifest.shardUris(shardDir, split);
        List<Object[]> indexed = new ArrayList<>();
        for (int i = 0; i < paths.size(); i++) {
            indexed.add(new Object[]{i, paths.get(i)});
        }
        Broadcast<byte[]> model = jsc.broadcast(serialize(net));
        int slices = Math.max(1, Math.min(paths.size(), jsc.defaultParallelism() * 2));
        List<ShardOutput> outputs = new ArrayList<>(jsc.parallelize(indexed, slices)
                .mapPartitions((Iterator<Object[]> it) -> {
                    List<ShardOutput> out = new ArrayList<>();
                    if (!it.hasNext()) {
                        return out.iterator();
                    }
                    MultiLayerNetwork restored = ModelSerializer.restoreMultiLayerNetwork(new ByteArrayInputStream(model.value()), false);
                    while (it.hasNext()) {
                        Object[] e = it.next();
                        DataSet ds = ShardFiles.read((String) e[1]);
                        INDArray probs = restored.output(ds.getFeatures(), false);
                        int n = (int) probs.rows();
                        float[][] p = new float[n][];
                        int[] y = new int[n];
                        for (int i = 0; i < n; i++) {
                            p[i] = probs.getRow(i).toFloatVector();
                            y[i] = ds.getLabels().getRow(i).argMax().getInt(0);
                        }
                        out.add(new ShardOutput((Integer) e[0], p, y));
                    }
                    return out.iterator();
                })
                .collect());
        model.destroy();
        outputs.sort(Comparator.comparingInt(ShardOutput::index));
        List<float[]> probs = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        for (ShardOutput o : outputs) {
            for (int i = 0; i < o.labels().length; i++) {
                probs.add(o.probabilities()[i]);
                labels.add(o.labels()[i]);
            }
        }
        return new Predictions(probs.toArray(new float[0][]), labels.stream().mapToInt(Integer::intValue).toArray());
    }

    private static byte[] serialize(MultiLayerNetwork net) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ModelSerializer.writeModel(net, out, false);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
