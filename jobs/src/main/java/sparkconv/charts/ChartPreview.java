package sparkconv.charts;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

import javax.imageio.ImageIO;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;

import sparkconv.spark.Fs;

/**
 * PNG files of a few rendered windows, so a person can look at what the model sees. Each pixel becomes a
 * {@code scale x scale} block; the file name carries symbol, end date and label.
 */
public final class ChartPreview {
    private ChartPreview() {
    }

    /** Writes {@code count} windows spread evenly over {@code windows}; returns the files written. */
    public static List<String> write(List<OhlcSeries> series, List<TimeSplits.Window> windows, int[] labels, List<String> classNames,
                                     ChartGeometry g, ChartStyle style, int count, int scale, String dir, Configuration conf) {
        List<String> files = new ArrayList<>();
        int n = Math.min(count, windows.size());
        for (int k = 0; k < n; k++) {
            int i = (int) ((long) k * windows.size() / n);
            TimeSplits.Window w = windows.get(i);
            byte[] pixels = ChartWindows.renderImages(series, List.of(w), g, style);
            Path file = Fs.child(dir, String.format("%s_%s_%s.png", w.symbol(), w.date(), classNames.get(labels[i])));
            Fs.writeBytes(file, png(pixels, g.height(), g.width(), scale), conf);
            files.add(file.toString());
        }
        return files;
    }

    public static byte[] png(byte[] pixels, int height, int width, int scale) {
        BufferedImage img = new BufferedImage(width * scale, height * scale, BufferedImage.TYPE_BYTE_GRAY);
        byte[] raster = ((java.awt.image.DataBufferByte) img.getRaster().getDataBuffer()).getData();
        for (int y = 0; y < height * scale; y++) {
            for (int x = 0; x < width * scale; x++) {
                raster[y * width * scale + x] = pixels[(y / scale) * width + x / scale];
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(img, "png", out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
