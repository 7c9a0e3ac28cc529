package sparkconv.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;

import sparkconv.charts.ChartGeometry;
import sparkconv.charts.ChartRenderer;
import sparkconv.charts.ChartStyle;
import sparkconv.charts.ChartWindows;
import sparkconv.charts.OhlcSeries;
import sparkconv.charts.ReturnTensors;
import sparkconv.charts.TimeSplits;
import sparkconv.data.OhlcCsv;

/**
 * Chart-window render throughput (windows/s) on N threads, for bench/run render: every window of a real series,
 * rendered over and over into a reused buffer for a fixed time after a warm-up. Renders only (no Spark, no shards):
 * the hot loop the render job runs in each task.
 * Usage: NiftyRenderBench CSV [threads] [seconds]
 */
public final class NiftyRenderBench {
    private NiftyRenderBench() {
    }

    public static void main(String[] args) throws Exception {
        Path csv = Path.of(args[0]);
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : 2;
        double seconds = args.length > 2 ? Double.parseDouble(args[2]) : 5;
        List<OhlcSeries> series = series(csv);
        System.out.printf("%s: %d days; %d thread(s), %.0f s per case after a %.0f s warm-up; %d cores available%n", csv,
                series.get(0).size(), threads, seconds, seconds / 2, Runtime.getRuntime().availableProcessors());
        System.out.printf("%-8s %-7s %-10s %14s%n", "style", "window", "size", "windows/s");
        Object[][] cases = {{ChartStyle.OHLC, 20}, {ChartStyle.CANDLE, 20}, {ChartStyle.RETURNS, 20}, {ChartStyle.OHLC, 5},
                {ChartStyle.OHLC, 60}};
        for (Object[] c : cases) {
            ChartStyle style = (ChartStyle) c[0];
            int window = (Integer) c[1];
            ChartWindows.Spec spec = new ChartWindows.Spec(window, 1, style, style.isImage() ? 1 : 4, 0, "time", 0.7, 0.15, 0, 1, 0);
            List<TimeSplits.Window> windows = ChartWindows.windows(series, spec);
            run(series, windows, spec, threads, seconds / 2);
            double rate = run(series, windows, spec, threads, seconds);
            String size = style.isImage() ? ChartGeometry.forWindow(window).height() + "x" + ChartGeometry.forWindow(window).width()
                    : "4x" + window;
            System.out.printf("%-8s %-7d %-10s %,14.0f%n", style.label(), window, size, rate);
        }
    }

    /** The series of one local price file (its symbol from the file name), as the benchmarks read it. */
    static List<OhlcSeries> series(Path csv) throws java.io.IOException {
        return OhlcSeries.of(OhlcCsv.sequence(List.of(OhlcCsv.parse(csv.toString(),
                Files.readString(csv, StandardCharsets.UTF_8), OhlcCsv.symbolFromFileName(csv.toString())))).rows());
    }

    private static double run(List<OhlcSeries> series, List<TimeSplits.Window> windows, ChartWindows.Spec spec, int threads,
                              double seconds) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        AtomicBoolean stop = new AtomicBoolean();
        List<Future<long[]>> results = new ArrayList<>();
        long start = System.nanoTime();
        for (int t = 0; t < threads; t++) {
            results.add(pool.submit(() -> loop(series.get(0), windows, spec, stop)));
        }
        Thread.sleep((long) (seconds * 1000));
        stop.set(true);
        long done = 0;
        long checksum = 0;
        for (Future<long[]> f : results) {
            done += f.get()[0];
            checksum += f.get()[1];
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        pool.shutdown();
        // Consume the checksum so the JIT cannot drop the rendering as dead code.
        if (checksum == Long.MIN_VALUE) {
            System.out.println("(checksum " + checksum + ")");
        }
        return done / elapsed;
    }

    private static long[] loop(OhlcSeries s, List<TimeSplits.Window> windows, ChartWindows.Spec spec, AtomicBoolean stop) {
        long done = 0;
        long checksum = 0;
        if (spec.style().isImage()) {
            ChartRenderer renderer = new ChartRenderer(ChartGeometry.forWindow(spec.window()), spec.style(), s);
            byte[] buffer = new byte[renderer.geometry().pixels()];
            while (!stop.get()) {
                for (TimeSplits.Window w : windows) {
                    renderer.render(w.end(), buffer, 0);
                    checksum += buffer[buffer.length / 2];
                }
                done += windows.size();
            }
        } else {
            ReturnTensors tensors = new ReturnTensors(s, spec.window(), spec.channels());
            float[] buffer = new float[tensors.values()];
            while (!stop.get()) {
                for (TimeSplits.Window w : windows) {
                    tensors.render(w.end(), buffer, 0);
                    checksum += (long) (buffer[0] * 1e6);
                }
                done += windows.size();
            }
        }
        return new long[]{done, checksum};
    }
}
