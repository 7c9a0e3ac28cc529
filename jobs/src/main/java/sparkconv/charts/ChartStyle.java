package sparkconv.charts;

import java.util.Locale;

import sparkconv.SparkconvException;

/** How a window becomes a model input. */
public enum ChartStyle {
    /** Jiang-Kelly-Xiu OHLC bars: open tick left, high-low bar centre, close tick right; MA line; volume bars. */
    OHLC,
    /** Candlesticks: a 3-pixel body from open to close and a high-low wick; up days white, down days grey. */
    CANDLE,
    /** A 1D tensor of log returns relative to the previous close (close; optionally open, high, low as more channels). */
    RETURNS;

    public boolean isImage() {
        return this != RETURNS;
    }

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static ChartStyle parse(String text) {
        for (ChartStyle s : values()) {
            if (s.label().equals(text)) {
                return s;
            }
        }
        throw new SparkconvException("unknown --style '" + text + "' (choose ohlc, candle or returns)");
    }
}
