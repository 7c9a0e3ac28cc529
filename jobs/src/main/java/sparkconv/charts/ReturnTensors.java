package sparkconv.charts;

import sparkconv.SparkconvException;

/**
 * 1D return tensors for Conv1D-style models, shape (channels, 1, W): for each day {@code d} of the window, the log
 * return of the close over the previous close, and with 4 channels also open, high and low relative to the previous
 * close. Scale-free by construction; the shard writer standardises them with the training split's mean and std.
 * A window ending on day {@code t} reads days {@code t-W..t}.
 */
public final class ReturnTensors {
    private final OhlcSeries series;
    private final int window;
    private final int channels;

    public ReturnTensors(OhlcSeries series, int window, int channels) {
        if (channels != 1 && channels != 4) {
            throw new SparkconvException("--channels must be 1 (close) or 4 (close, open, high, low), got " + channels);
        }
        this.series = series;
        this.window = window;
        this.channels = channels;
    }

    public int channels() {
        return channels;
    }

    public int values() {
        return channels * window;
    }

    /** Writes the window ending on day {@code end} into {@code dst[offset .. offset + channels*W)}, channel-major. */
    public void render(int end, float[] dst, int offset) {
        int from = end - window + 1;
        for (int i = 0; i < window; i++) {
            int d = from + i;
            double previousClose = series.close()[d - 1];
            dst[offset + i] = (float) Math.log(series.close()[d] / previousClose);
            if (channels == 4) {
                dst[offset + window + i] = (float) Math.log(series.open()[d] / previousClose);
                dst[offset + 2 * window + i] = (float) Math.log(series.high()[d] / previousClose);
                dst[offset + 3 * window + i] = (float) Math.log(series.low()[d] / previousClose);
            }
        }
    }
}
