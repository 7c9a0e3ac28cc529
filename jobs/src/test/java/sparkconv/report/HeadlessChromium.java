package sparkconv.report;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import javax.imageio.ImageIO;

/** Screenshots of a report page in headless Chromium (Debian's {@code chromium}), for tests that look at reports. */
public final class HeadlessChromium {
    private HeadlessChromium() {
    }

    public static Path binary() {
        for (String p : List.of("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")) {
            if (Files.isExecutable(Path.of(p))) {
                return Path.of(p);
            }
        }
        return null;
    }

    /** Renders {@code page} at width x height into a PNG in {@code work} and reads it back. */
    public static BufferedImage screenshot(Path page, Path work, int width, int height) throws Exception {
        Path png = work.resolve("screenshot.png");
        Path profile = Files.createDirectories(work.resolve("chromium-profile"));
        Process p = new ProcessBuilder(binary().toString(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                "--user-data-dir=" + profile, "--screenshot=" + png, "--window-size=" + width + "," + height,
                page.toUri().toString())
                .redirectErrorStream(true).redirectOutput(work.resolve("chromium.log").toFile()).start();
        if (!p.waitFor(180, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("chromium did not finish in 180 s");
        }
        if (!Files.exists(png)) {
            throw new IllegalStateException("chromium wrote no screenshot: " + Files.readString(work.resolve("chromium.log")));
        }
        return ImageIO.read(png.toFile());
    }

    /** Pixels within {@code tolerance} of an RGB colour. */
    public static long count(BufferedImage img, int rgb, int tolerance) {
        long n = 0;
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                int c = img.getRGB(x, y);
                if (Math.abs(((c >> 16) & 255) - ((rgb >> 16) & 255)) <= tolerance && Math.abs(((c >> 8) & 255) - ((rgb >> 8) & 255)) <= tolerance
                        && Math.abs((c & 255) - (rgb & 255)) <= tolerance) {
                    n++;
                }
            }
        }
        return n;
    }
}
