package sparkconv.bench;

import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import sparkconv.charts.ChartGeometry;
import sparkconv.charts.ChartStyle;
import sparkconv.charts.ChartWindows;
import sparkconv.charts.OhlcSeries;
import sparkconv.charts.TimeSplits;

/**
 * Real NIFTY chart windows as the four IDX files of an MNIST-style directory, so the compute-bound training benchmark
 * feeds the same pixels to sparkconv (through the IDX preprocess) and to PyTorch (bench/pytorch/train.py reads IDX).
 * The training file holds the time split's training then validation windows in date order (the benchmark holds out
 * its tail), the test file the test windows; labels are the product's own (up/down over the horizon, no look-ahead).
 * Usage: ChartIdx CSV OUT_DIR [window] [horizon]
 */
public final class ChartIdx {
    private ChartIdx() {
    }

    public static void main(String[] args) throws IOException {
        Path csv = Path.of(args[0]);
        Path out = Path.of(args[1]);
        int window = args.length > 2 ? Integer.parseInt(args[2]) : 20;
        int horizon = args.length > 3 ? Integer.parseInt(args[3]) : 5;
        List<OhlcSeries> series = NiftyRenderBench.series(csv);
        ChartWindows.Spec spec = new ChartWindows.Spec(window, horizon, ChartStyle.OHLC, 1, 0, "time", 0.7, 0.15, 0, 1, 0);
        TimeSplits.Fold fold = ChartWindows.plan(series, spec).get(0);
        List<TimeSplits.Window> train = new ArrayList<>(fold.splits().get("train"));
        train.addAll(fold.splits().get("validation"));
        List<TimeSplits.Window> test = fold.splits().get("test");
        Files.createDirectories(out);
        ChartGeometry g = ChartGeometry.forWindow(window);
        write(out, "train", series, train, spec, g);
        write(out, "t10k", series, test, spec, g);
        System.out.printf("%s: %d training + %d test %dx%d OHLC windows (window %d, horizon %d) from %s%n", out, train.size(),
                test.size(), g.height(), g.width(), window, horizon, csv);
    }

    private static void write(Path dir, String prefix, List<OhlcSeries> series, List<TimeSplits.Window> windows,
                              ChartWindows.Spec spec, ChartGeometry g) throws IOException {
        byte[] pixels = ChartWindows.renderImages(series, windows, g, spec.style());
        int[] labels = ChartWindows.labels(series, windows, spec, "test");
        try (DataOutputStream o = new DataOutputStream(Files.newOutputStream(dir.resolve(prefix + "-images-idx3-ubyte")))) {
            o.writeInt(0x0803);
            o.writeInt(windows.size());
            o.writeInt(g.height());
            o.writeInt(g.width());
            o.write(pixels);
        }
        try (DataOutputStream o = new DataOutputStream(Files.newOutputStream(dir.resolve(prefix + "-labels-idx1-ubyte")))) {
            o.writeInt(0x0801);
            o.writeInt(windows.size());
            for (int y : labels) {
                o.writeByte(y);
            }
        }
    }
}
