package sparkconv.cli;

import picocli.CommandLine.Option;

import sparkconv.charts.ChartStyle;
import sparkconv.charts.ChartWindows;

/**
 * The chart-window flags {@code nifty render} and {@code nifty walk-forward} share: which ingested prices, which windows,
 * drawn how. Conf defaults stay per command ({@code nifty.render.window}, {@code nifty.walk-forward.window}): picocli
 * adds a mixin's options to the command that uses it.
 */
final class ChartWindowFlags {
    @Option(names = "--in", required = true, description = "ingested directory (nifty ingest --out)")
    String in;

    @Option(names = "--window", required = true, description = "trading days per window (images: 5, 20 or 60)")
    int window;

    @Option(names = "--horizon", required = true, description = "label horizon H in trading days")
    int horizon;

    @Option(names = "--style", defaultValue = "ohlc", description = "ohlc, candle or returns (default ${DEFAULT-VALUE})")
    String style;

    @Option(names = "--channels", defaultValue = "1", description = "returns: 1 (close) or 4 (close, open, high, low vs previous close)")
    int channels;

    @Option(names = "--embargo", defaultValue = "0", description = "trading days dropped after each split boundary (default and minimum W+H)")
    int embargo;

    /** The windows these flags pick, split and labelled by the command's own options. */
    ChartWindows.Spec spec(double deadBand, String split, double trainFraction, double validationFraction, int folds, long shuffleSeed) {
        return new ChartWindows.Spec(window, horizon, ChartStyle.parse(style), channels, deadBand, split, trainFraction,
                validationFraction, embargo, folds, shuffleSeed);
    }
}
