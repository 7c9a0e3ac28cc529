package sparkconv.eval;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * Per-pixel segmentation metrics: pixel accuracy, per-class IoU = TP / (TP + FP + FN), mean IoU over the classes
 * present (in truth or prediction), and boundary IoU (Cheng et al. 2021): per class, the IoU of the truth's and the
 * prediction's boundary bands, a band being the class's pixels within {@link Counts#BAND} pixels (Chebyshev) of
 * a pixel of another class. Boundary IoU is what the chapter's claim about sharper boundaries is measured with;
 * ordinary IoU is dominated by object interiors.
 */
public record SegmentationMetrics(String split, long images, long pixels, double pixelAccuracy, double meanIoU,
                                  double meanBoundaryIoU, double foregroundMeanIoU, double foregroundMeanBoundaryIoU,
                                  List<PerClass> perClass, long[][] confusion) {

    public record PerClass(String name, long pixels, double iou, double boundaryIoU) {
    }

    /** Mergeable counts from the executors. */
    public static final class Counts implements Serializable {
        public static final int BAND = 2;
        final long[][] confusion;
        final long[] boundaryIntersection;
        final long[] boundaryUnion;
        long images;

        public Counts(int classes) {
            confusion = new long[classes][classes];
            boundaryIntersection = new long[classes];
            boundaryUnion = new long[classes];
        }

        /** One image: class index per pixel, row-major {@code height x width}. */
        public void add(int[] truth, int[] predicted, int height, int width) {
            int classes = confusion.length;
            for (int p = 0; p < truth.length; p++) {
                confusion[truth[p]][predicted[p]]++;
            }
            boolean[] truthBand = band(truth, height, width);
            boolean[] predBand = band(predicted, height, width);
            for (int p = 0; p < truth.length; p++) {
                boolean inTruth = truthBand[p];
                boolean inPred = predBand[p];
                for (int c = 0; c < classes; c++) {
                    boolean t = inTruth && truth[p] == c;
                    boolean q = inPred && predicted[p] == c;
                    if (t && q) {
                        boundaryIntersection[c]++;
                    }
                    if (t || q) {
                        boundaryUnion[c]++;
                    }
                }
            }
            images++;
        }

        /** Pixels within BAND of a pixel with another label. */
        static boolean[] band(int[] labels, int height, int width) {
            boolean[] out = new boolean[labels.length];
            for (int y = 0; y < height; y++) {
                for (int x = 0; x < width; x++) {
                    int own = labels[y * width + x];
                    search:
                    for (int dy = -BAND; dy <= BAND; dy++) {
                        for (int dx = -BAND; dx <= BAND; dx++) {
                            int yy = y + dy;
                            int xx = x + dx;
                            if (yy >= 0 && yy < height && xx >= 0 && xx < width && labels[yy * width + xx] != own) {
                                out[y * width + x] = true;
                                break search;
                            }
                        }
                    }
                }
            }
            return out;
        }

        public Counts merge(Counts o) {
            for (int i = 0; i < confusion.length; i++) {
                for (int j = 0; j < confusion.length; j++) {
                    confusion[i][j] += o.confusion[i][j];
                }
                boundaryIntersection[i] += o.boundaryIntersection[i];
                boundaryUnion[i] += o.boundaryUnion[i];
            }
            images += o.images;
            return this;
        }
    }

    public static SegmentationMetrics of(String split, Counts counts, List<String> classNames) {
        int k = classNames.size();
        long total = 0;
        long correct = 0;
        List<PerClass> per = new ArrayList<>();
        double iouSum = 0;
        double biouSum = 0;
        double fgIou = 0;
        double fgBiou = 0;
        int present = 0;
        int fgPresent = 0;
        for (int c = 0; c < k; c++) {
            long tp = counts.confusion[c][c];
            long fn = 0;
            long fp = 0;
            long support = 0;
            for (int j = 0; j < k; j++) {
                support += counts.confusion[c][j];
                if (j != c) {
                    fn += counts.confusion[c][j];
                    fp += counts.confusion[j][c];
                }
            }
            total += support;
            correct += tp;
            long union = tp + fp + fn;
            double iou = union == 0 ? Double.NaN : tp / (double) union;
            double biou = counts.boundaryUnion[c] == 0 ? Double.NaN
                    : counts.boundaryIntersection[c] / (double) counts.boundaryUnion[c];
            per.add(new PerClass(classNames.get(c), support, iou, biou));
            if (union > 0) {
                iouSum += iou;
                biouSum += Double.isNaN(biou) ? 0 : biou;
                present++;
                if (c > 0) {
                    fgIou += iou;
                    fgBiou += Double.isNaN(biou) ? 0 : biou;
                    fgPresent++;
                }
            }
        }
        return new SegmentationMetrics(split, counts.images, total, total == 0 ? 0 : correct / (double) total,
                present == 0 ? 0 : iouSum / present, present == 0 ? 0 : biouSum / present,
                fgPresent == 0 ? 0 : fgIou / fgPresent, fgPresent == 0 ? 0 : fgBiou / fgPresent, per, counts.confusion);
    }

    public String summary() {
        StringBuilder sb = new StringBuilder(String.format(
                "%s: pixel accuracy %.4f, mIoU %.4f (foreground %.4f), boundary IoU %.4f (foreground %.4f) over %,d images%n",
                split, pixelAccuracy, meanIoU, foregroundMeanIoU, meanBoundaryIoU, foregroundMeanBoundaryIoU, images));
        sb.append(String.format("  %-14s %10s %7s %12s%n", "class", "pixels", "IoU", "boundary IoU"));
        for (PerClass c : perClass) {
            sb.append(String.format("  %-14s %10d %7.3f %12.3f%n", c.name(), c.pixels(), c.iou(), c.boundaryIoU()));
        }
        return sb.toString();
    }
}
