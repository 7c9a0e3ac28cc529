package sparkconv.eval;

import java.util.Arrays;

/**
 * Accuracy, balanced accuracy and AUC of predictions over examples selected by an index array (so the block
 * bootstrap can resample them). Classes are 0..k-1; AUC is for the last class ("up") against the rest, from scores.
 */
public final class BinaryMetrics {
    private BinaryMetrics() {
    }

    public static double accuracy(int[] truth, int[] predicted, int[] idx) {
        int hit = 0;
        for (int i : idx) {
            hit += truth[i] == predicted[i] ? 1 : 0;
        }
        return hit / (double) idx.length;
    }

    /** Mean recall over the classes present among {@code idx} (a constant prediction scores 1/k). */
    public static double balancedAccuracy(int[] truth, int[] predicted, int[] idx, int classes) {
        long[] support = new long[classes];
        long[] hit = new long[classes];
        for (int i : idx) {
            support[truth[i]]++;
            hit[truth[i]] += truth[i] == predicted[i] ? 1 : 0;
        }
        double sum = 0;
        int present = 0;
        for (int c = 0; c < classes; c++) {
            if (support[c] > 0) {
                sum += hit[c] / (double) support[c];
                present++;
            }
        }
        return present == 0 ? Double.NaN : sum / present;
    }

    /** Mann-Whitney AUC of {@code score} for class {@code positive} vs the rest, ties counted half; NaN with one class only. */
    public static double auc(int[] truth, double[] score, int[] idx, int positive) {
        int n = idx.length;
        Integer[] order = new Integer[n];
        for (int k = 0; k < n; k++) {
            order[k] = k;
        }
        Arrays.sort(order, (a, b) -> Double.compare(score[idx[a]], score[idx[b]]));
        double rankSumPositive = 0;
        long positives = 0;
        int k = 0;
        while (k < n) {
            int j = k;
            while (j + 1 < n && score[idx[order[j + 1]]] == score[idx[order[k]]]) {
                j++;
            }
            double averageRank = (k + j) / 2.0 + 1;
            for (int m = k; m <= j; m++) {
                if (truth[idx[order[m]]] == positive) {
                    rankSumPositive += averageRank;
                    positives++;
                }
            }
            k = j + 1;
        }
        long negatives = n - positives;
        if (positives == 0 || negatives == 0) {
            return Double.NaN;
        }
        return (rankSumPositive - positives * (positives + 1) / 2.0) / (positives * (double) negatives);
    }

    public static int[] all(int n) {
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) {
            idx[i] = i;
        }
        return idx;
    }
}
