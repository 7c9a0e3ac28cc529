package sparkconv.charts;

import java.io.Serializable;
import java.util.List;

import sparkconv.SparkconvException;

/**
 * The label of a window ending on day t: the direction of close(t+H) against close(t). Two classes (down, up;
 * a tie is down), or three (down, flat, up) with a dead band: |close(t+H)/close(t) - 1| <= band is flat.
 */
public record Labels(int horizon, double deadBand) implements Serializable {
    public Labels {
        if (horizon <= 0) {
            throw new SparkconvException("--horizon must be at least 1 trading day, got " + horizon);
        }
        if (deadBand < 0 || !Double.isFinite(deadBand)) {
            throw new SparkconvException("--dead-band must be a return >= 0 (e.g. 0.002), got " + deadBand);
        }
    }

    public List<String> classNames() {
        return deadBand > 0 ? List.of("down", "flat", "up") : List.of("down", "up");
    }

    /** The class of the window ending on {@code end}; needs {@code end + horizon < series.size()}. */
    public int label(OhlcSeries series, int end) {
        double r = forwardReturn(series, end);
        if (deadBand > 0) {
            return r > deadBand ? 2 : r < -deadBand ? 0 : 1;
        }
        return r > 0 ? 1 : 0;
    }

    /** close(t+H) / close(t) - 1: what a position taken at the close of day t earns over the horizon. */
    public double forwardReturn(OhlcSeries series, int end) {
        return series.close()[end + horizon] / series.close()[end] - 1;
    }
}
