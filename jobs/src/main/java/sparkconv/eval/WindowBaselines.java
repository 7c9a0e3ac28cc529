package sparkconv.eval;

import java.util.ArrayList;
import java.util.List;

import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.ml.classification.LogisticRegressionModel;
import org.apache.spark.ml.linalg.DenseVector;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import sparkconv.charts.OhlcSeries;
import sparkconv.charts.ReturnTensors;
import sparkconv.charts.TimeSplits;

/**
 * Baselines a chart model must beat, computed on the same test windows: the training split's majority class,
 * "same direction as the last H days" (momentum), and logistic regression on the window's W close returns
 * (Spark MLlib, fitted on the training windows with their true labels).
 */
public final class WindowBaselines {
    private WindowBaselines() {
    }

    /** Predicted classes and scores for the positive (last) class. */
    public record Scored(int[] predicted, double[] score) {
    }

    public static Scored majority(int[] trainLabels, int testSize, int classes) {
        long[] counts = new long[classes];
        for (int y : trainLabels) {
            counts[y]++;
        }
        int best = 0;
        for (int c = 1; c < classes; c++) {
            if (counts[c] > counts[best]) {
                best = c;
            }
        }
        int[] p = new int[testSize];
        java.util.Arrays.fill(p, best);
        return new Scored(p, new double[testSize]);
    }

    /** Up (last class) when close(t) is above close(t-H), else down (class 0); the score is that past return. */
    public static Scored momentum(List<OhlcSeries> series, List<TimeSplits.Window> windows, int horizon, int classes) {
        int[] p = new int[windows.size()];
        double[] s = new double[windows.size()];
        for (int i = 0; i < p.length; i++) {
            TimeSplits.Window w = windows.get(i);
            double[] close = series.get(w.series()).close();
            s[i] = close[w.end()] / close[w.end() - horizon] - 1;
            p[i] = s[i] > 0 ? classes - 1 : 0;
        }
        return new Scored(p, s);
    }

    public static Scored logisticRegression(SparkSession spark, List<OhlcSeries> series, List<TimeSplits.Window> train,
                                            int[] trainLabels, List<TimeSplits.Window> test, int window, int classes) {
        StructType schema = new StructType().add("label", DataTypes.DoubleType).add("features", SQLDataTypes.VectorType());
        LogisticRegressionModel model = new LogisticRegression().setMaxIter(100).setRegParam(1e-3)
                .fit(frame(spark, schema, series, train, trainLabels, window));
        List<Row> out = model.transform(frame(spark, schema, series, test, new int[test.size()], window))
                .select("prediction", "probability").collectAsList();
        int[] p = new int[test.size()];
        double[] s = new double[test.size()];
        for (int i = 0; i < p.length; i++) {
            p[i] = (int) out.get(i).getDouble(0);
            DenseVector prob = (DenseVector) out.get(i).get(1);
            s[i] = prob.size() >= classes ? prob.apply(classes - 1) : 0;
        }
        return new Scored(p, s);
    }

    private static Dataset<Row> frame(SparkSession spark, StructType schema, List<OhlcSeries> series,
                                      List<TimeSplits.Window> windows, int[] labels, int window) {
        float[] returns = new float[window];
        List<Row> rows = new ArrayList<>(windows.size());
        for (int i = 0; i < windows.size(); i++) {
            TimeSplits.Window w = windows.get(i);
            new ReturnTensors(series.get(w.series()), window, 1).render(w.end(), returns, 0);
            double[] x = new double[window];
            for (int k = 0; k < window; k++) {
                x[k] = returns[k];
            }
            rows.add(RowFactory.create((double) labels[i], Vectors.dense(x)));
        }
        return spark.createDataFrame(rows, schema);
    }
}
