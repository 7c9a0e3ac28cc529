package sparkconv.charts;

import sparkconv.SparkconvException;

/**
 * Image size of a W-day chart as in Jiang, Kelly and Xiu (2023): 3 pixels per day; 5 days 32x15, 20 days 64x60,
 * 60 days 96x180 (height x width). The bottom fifth holds volume bars, one blank row above it separates them from
 * the prices.
 */
public record ChartGeometry(int window, int height, int width) implements java.io.Serializable {

    public static ChartGeometry forWindow(int window) {
        return switch (window) {
            case 5 -> new ChartGeometry(5, 32, 15);
            case 20 -> new ChartGeometry(20, 64, 60);
            case 60 -> new ChartGeometry(60, 96, 180);
            default -> throw new SparkconvException("--window " + window + " has no chart size: images are defined for 5, 20 "
                    + "and 60 days (Jiang-Kelly-Xiu 32x15, 64x60, 96x180); --style returns takes any window >= 2");
        };
    }

    public int volumeHeight() {
        return height / 5;
    }

    /** Rows [0, priceHeight) hold prices and the MA line. */
    public int priceHeight() {
        return height - volumeHeight() - 1;
    }

    public int pixels() {
        return height * width;
    }
}
