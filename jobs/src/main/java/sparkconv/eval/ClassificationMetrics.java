package sparkconv.eval;

import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import org.nd4j.evaluation.classification.Evaluation;

/** Accuracy, per-class precision / recall / F1 and the confusion matrix: the content of {@code metrics.json}. */
public record ClassificationMetrics(String split, long examples, double accuracy, double macroF1, List<PerClass> perClass,
                                    long[][] confusion) {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public record PerClass(String name, long support, double precision, double recall, double f1) {
    }

    public static ClassificationMetrics of(String split, Evaluation eval, List<String> classNames) {
        int n = classNames.size();
        long[][] confusion = new long[n][n];
        List<PerClass> per = new ArrayList<>();
        long total = 0;
        for (int actual = 0; actual < n; actual++) {
            long support = 0;
            for (int predicted = 0; predicted < n; predicted++) {
                confusion[actual][predicted] = eval.getConfusionMatrix().getCount(actual, predicted);
                support += confusion[actual][predicted];
            }
            total += support;
            per.add(new PerClass(classNames.get(actual), support, safe(eval.precision(actual)), safe(eval.recall(actual)),
                    safe(eval.f1(actual))));
        }
        double macroF1 = per.stream().mapToDouble(PerClass::f1).average().orElse(0);
        return new ClassificationMetrics(split, total, eval.accuracy(), macroF1, per, confusion);
    }

    private static double safe(double v) {
        return Double.isFinite(v) ? v : 0.0;
    }

    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    public static ClassificationMetrics fromJson(String json) {
        try {
            return JSON.readValue(json, ClassificationMetrics.class);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not classification metrics: " + e.getOriginalMessage(), e);
        }
    }

    public String summary() {
        StringBuilder sb = new StringBuilder(String.format("%s: accuracy %.4f, macro F1 %.4f over %,d examples%n",
                split, accuracy, macroF1, examples));
        sb.append(String.format("  %-14s %8s %9s %7s %6s%n", "class", "support", "precision", "recall", "f1"));
        for (PerClass c : perClass) {
            sb.append(String.format("  %-14s %8d %9.3f %7.3f %6.3f%n", c.name(), c.support(), c.precision(), c.recall(), c.f1()));
        }
        return sb.toString();
    }
}
