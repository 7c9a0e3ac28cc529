package sparkconv.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.imageio.ImageIO;

import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import sparkconv.LocalSpark;
import sparkconv.TestData;
import sparkconv.data.IdxDataset;
import sparkconv.models.Hyper;
import sparkconv.preprocess.IdxPreprocess;
import sparkconv.store.ModelStore;
import sparkconv.train.TrainOptions;
import sparkconv.train.TrainingRun;

/** The report of a real 2-epoch run: every section present, self-contained, and (when Chromium is installed) it renders. */
class TrainingReportTest {
    @TempDir
    Path dir;

    @Test
    void reportOfARealRunIsCompleteSelfContainedAndRenders() throws Exception {
        var spark = LocalSpark.get();
        String shards = dir.resolve("shards").toString();
        IdxPreprocess.idx(spark, TestData.fashionMnist().toString(), "fashion-mnist", IdxDataset.FASHION_CLASSES, shards,
                32, 100, 800, false);
        String store = dir.resolve("store").toString();
        TrainingRun.Outcome o = TrainingRun.run(spark, shards, TrainOptions.builder("seed-trace",
                new Hyper("nesterovs", 0.02, 0.9, 1e-4, 5)).epochs(2).workers(2).averagingFrequency(2).prefetch(1).collectStats(true).build(), store, "fm", null, line -> { });
        Configuration conf = new Configuration();
        String uri = TrainingReport.write(new ModelStore(store, conf), conf, "fm", o.version().version());
        Path file = dir.resolve("store/models/fm/v1/report.html");
        assertTrue(uri.endsWith("/models/fm/v1/report.html"), uri);
        String html = Files.readString(file);

        assertEquals(2, count(html, "<svg"), "loss and accuracy charts");
        assertEquals(4, count(html, "<polyline"), "train and validation series in both charts");
        assertTrue(html.contains("Confusion matrix"));
        assertEquals(10, count(html, "<tr><th class='l'>\\d+ "), "one confusion row per class");
        for (String c : IdxDataset.FASHION_CLASSES) {
            assertTrue(html.contains("<td class='l'>" + c + "</td>"), "per-class row for " + c);
        }
        assertTrue(html.contains("Where the time went") && html.contains("<span class='bar'"), "time split from --stats");
        assertEquals(TrainingReport.SAMPLES, count(html, "<img alt='test image' src='data:image/png;base64,"));
        // self-contained: no scripts, no external resources (the SVG namespace is a name, not a fetch)
        assertFalse(html.contains("<script"));
        assertFalse(Pattern.compile("(src|href)=['\"]https?:").matcher(html).find());
        assertFalse(html.replace("xmlns='http://www.w3.org/2000/svg'", "").contains("http://")
                || html.contains("https://"), "no URLs at all");

        Path png = render(file);
        BufferedImage shot = ImageIO.read(png.toFile());
        assertTrue(shot.getWidth() >= 1000 && shot.getHeight() >= 1000);
        assertTrue(distinctColours(shot) > 50, "the page rendered charts, heat map and images, not a blank page");
    }

    private static int count(String s, String regex) {
        Matcher m = Pattern.compile(regex).matcher(s);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    /**
     * Headless Chromium screenshot. Skips when Chromium is not installed (./setup --ci installs it), except under CI
     * (CI=true, as .ci/run sets it), where a report the test cannot render is a failure.
     */
    static Path render(Path html) throws Exception {
        Path chromium = List.of(Path.of("/usr/bin/chromium"), Path.of("/usr/bin/chromium-browser")).stream()
                .filter(Files::isExecutable).findFirst().orElse(null);
        if (chromium == null) {
            assertFalse("true".equals(System.getenv("CI")), "CI=true but Chromium is not installed: .ci/run installs it (./setup --ci)");
            Assumptions.abort("SKIPPED rendering: Chromium not installed (./setup --ci)");
        }
        Path png = html.resolveSibling("report.png");
        // A fresh profile directory and no background work: runs as root (--no-sandbox) in a container without a session
        Path profile = Files.createTempDirectory(html.getParent(), "chromium-profile");
        Process p = new ProcessBuilder(chromium.toString(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--user-data-dir=" + profile, "--hide-scrollbars", "--window-size=1100,2600",
                "--screenshot=" + png, html.toUri().toString()).redirectErrorStream(true)
                .redirectOutput(html.resolveSibling("chromium.log").toFile()).start();
        assertTrue(p.waitFor(90, TimeUnit.SECONDS), "chromium finished");
        assertTrue(Files.size(png) > 10_000, "screenshot written");
        return png;
    }

    private static int distinctColours(BufferedImage img) {
        java.util.Set<Integer> colours = new java.util.HashSet<>();
        for (int y = 0; y < img.getHeight(); y += 3) {
            for (int x = 0; x < img.getWidth(); x += 3) {
                colours.add(img.getRGB(x, y));
            }
        }
        return colours.size();
    }
}
