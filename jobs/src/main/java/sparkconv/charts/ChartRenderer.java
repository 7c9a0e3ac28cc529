package sparkconv.charts;

import java.util.Arrays;

/**
 * Draws W-day chart windows of one series straight into a byte array (one channel, row-major, 0 = black,
 * 255 = white): no Java2D, no allocation per window. Prices are scaled to the window's own range of highs, lows
 * and MA, so an image carries no absolute price level; volume is scaled to the window's largest volume.
 *
 * <p>A window ending on day {@code t} reads days {@code t-W+1..t} and the trailing MA up to {@code t}, nothing later.
 */
public final class ChartRenderer {
    /** Pixel value of a down day's candle: distinguishable from the white up days in one grey channel. */
    public static final byte DOWN = (byte) 128;
    public static final byte WHITE = (byte) 255;

    private final ChartGeometry geometry;
    private final ChartStyle style;
    private final OhlcSeries series;
    private final double[] movingAverage;

    public ChartRenderer(ChartGeometry geometry, ChartStyle style, OhlcSeries series) {
        if (!style.isImage()) {
            throw new IllegalArgumentException("ChartRenderer draws images; use ReturnTensors for " + style.label());
        }
        this.geometry = geometry;
        this.style = style;
        this.series = series;
        this.movingAverage = series.movingAverage(geometry.window());
    }

    public ChartGeometry geometry() {
        return geometry;
    }

    /** Renders the window ending on day {@code end} into {@code dst[offset .. offset + height*width)}. */
    public void render(int end, byte[] dst, int offset) {
        int w = geometry.window();
        int width = geometry.width();
        int from = end - w + 1;
        Arrays.fill(dst, offset, offset + geometry.pixels(), (byte) 0);

        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        double maxVolume = 0;
        for (int d = from; d <= end; d++) {
            lo = Math.min(lo, Math.min(series.low()[d], movingAverage[d]));
            hi = Math.max(hi, Math.max(series.high()[d], movingAverage[d]));
            double v = series.volume()[d];
            if (v > maxVolume) {
                maxVolume = v;
            }
        }
        int top = geometry.priceHeight() - 1;
        double rowsPerPrice = hi > lo ? top / (hi - lo) : 0;
        int flatRow = top / 2;

        int previousMaRow = -1;
        for (int i = 0; i < w; i++) {
            int d = from + i;
            int left = 3 * i;
            int centre = left + 1;
            int highRow = row(series.high()[d], hi, rowsPerPrice, flatRow);
            int lowRow = row(series.low()[d], hi, rowsPerPrice, flatRow);
            int openRow = row(series.open()[d], hi, rowsPerPrice, flatRow);
            int closeRow = row(series.close()[d], hi, rowsPerPrice, flatRow);
            if (style == ChartStyle.OHLC) {
                verticalLine(dst, offset, width, centre, highRow, lowRow, WHITE);
                dst[offset + openRow * width + left] = WHITE;
                dst[offset + closeRow * width + left + 2] = WHITE;
            } else {
                byte colour = series.close()[d] >= series.open()[d] ? WHITE : DOWN;
                verticalLine(dst, offset, width, centre, highRow, lowRow, colour);
                for (int x = left; x < left + 3; x++) {
                    verticalLine(dst, offset, width, x, Math.min(openRow, closeRow), Math.max(openRow, closeRow), colour);
                }
            }
            int maRow = row(movingAverage[d], hi, rowsPerPrice, flatRow);
            if (previousMaRow >= 0) {
                line(dst, offset, width, centre - 3, previousMaRow, centre, maRow);
            } else {
                dst[offset + maRow * width + centre] = WHITE;
            }
            previousMaRow = maRow;

            double v = series.volume()[d];
            if (maxVolume > 0 && v > 0) {
                int bar = Math.max(1, (int) Math.round(v / maxVolume * geometry.volumeHeight()));
                verticalLine(dst, offset, width, centre, geometry.height() - bar, geometry.height() - 1, WHITE);
            }
        }
    }

    private static int row(double price, double hi, double rowsPerPrice, int flatRow) {
        return rowsPerPrice == 0 ? flatRow : (int) Math.round((hi - price) * rowsPerPrice);
    }

    private static void verticalLine(byte[] dst, int offset, int width, int x, int fromRow, int toRow, byte value) {
        for (int y = fromRow; y <= toRow; y++) {
            dst[offset + y * width + x] = value;
        }
    }

    /** Bresenham line from (x0, y0) to (x1, y1), x0 < x1. */
    private static void line(byte[] dst, int offset, int width, int x0, int y0, int x1, int y1) {
        int dx = x1 - x0;
        int dy = -Math.abs(y1 - y0);
        int sy = y0 < y1 ? 1 : -1;
        int err = dx + dy;
        int x = x0;
        int y = y0;
        while (true) {
            dst[offset + y * width + x] = WHITE;
            if (x == x1 && y == y1) {
                return;
            }
            int e2 = 2 * err;
            if (e2 >= dy) {
                err += dy;
                x++;
            }
            if (e2 <= dx) {
                err += dx;
                y += sy;
            }
        }
    }
}
