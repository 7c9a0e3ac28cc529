package sparkconv.walkforward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.imageio.ImageIO;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import sparkconv.LocalSpark;
import sparkconv.TestData;
import sparkconv.eval.NiftyEvaluation;
import sparkconv.data.OhlcIngest;
import sparkconv.cli.Main;
import sparkconv.report.HeadlessChromium;

/**
 * {@code nifty walk-forward} end to end on two synthetic random-walk symbols (one ingest of two price files): folds
 * rendered, model and shuffled-label control trained per fold, out-of-sample predictions pooled across folds and
 * split per symbol, report.html written; a second run resumes (trains and evaluates nothing again).
 */
class WalkForwardTest {
    @TempDir
    Path tmp;

    static Path randomWalk(Path dir, String symbol, long seed, int days) throws Exception {
        StringBuilder csv = new StringBuilder("Date,Open,High,Low,Close,Volume\n");
        Random r = new Random(seed);
        double close = 100;
        LocalDate d = LocalDate.of(2005, 1, 3);
        for (int i = 0; i < days; i++) {
            double open = close * (1 + 0.01 * r.nextGaussian());
            close = open * (1 + 0.01 * r.nextGaussian());
            csv.append(d.plusDays(i)).append(',').append(open).append(',').append(Math.max(open, close) * 1.003).append(',')
                    .append(Math.min(open, close) * 0.997).append(',').append(close).append(',').append(1000 + r.nextInt(500)).append('\n');
        }
        return Files.writeString(dir.resolve(symbol + ".csv"), csv.toString());
    }

    private String run(String... args) {
        PrintStream old = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true));
        try {
            assertEquals(0, Main.run(args), captured.toString());
        } finally {
            System.setOut(old);
        }
        return captured.toString();
    }

    /**
     * In a real browser the page shows the sample chart windows (black chart backgrounds with white bars: the embedded
     * PNGs decoded), the model's equity curve (its colour) and the buy-and-hold curve (black).
     */
    private void lookAtTheReportInChromium(Path page) throws Exception {
        Assumptions.assumeTrue(HeadlessChromium.binary() != null, "headless Chromium not installed (apt-get install chromium): not looked at");
        BufferedImage shot = HeadlessChromium.screenshot(page, Files.createDirectories(tmp.resolve("chromium")), 1200, 3200);
        // Kept for a person to look at (the temporary directory is deleted).
        Files.copy(page, Path.of("target", "walk-forward-report.html"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        ImageIO.write(shot, "png", Path.of("target", "walk-forward-report.png").toFile());
        long pixels = (long) shot.getWidth() * shot.getHeight();
        long black = HeadlessChromium.count(shot, 0x000000, 20);
        long white = HeadlessChromium.count(shot, 0xffffff, 0);
        long modelColour = HeadlessChromium.count(shot, 0x1f77b4, 40);
        assertTrue(black > 12 * 2000, "the 12 sample charts are drawn (black backgrounds): " + black + " black pixels");
        assertTrue(white > pixels / 3, "mostly a white page: " + white + " of " + pixels);
        assertTrue(modelColour > 300, "the model's equity curve is drawn: " + modelColour + " pixels of its colour");
    }

    /**
     * The equity chart: its y axis named, round ticks (1, 2 or 5 times a power of ten, through 1.0), every row's full name
     * in the legend, and the always-long majority baseline (within one entry cost of buy and hold, so hidden under it
     * before) marked as a copy of buy and hold. The sample windows: as many right and wrong as the model's accuracy
     * gives 12 windows, and the caption says so.
     */
    private static void theEquityChartAndTheSampleSayWhatTheyShow(String html, JsonNode pooled) {
        int at = html.indexOf("id='equity'");
        String svg = html.substring(at, html.indexOf("</svg>", at));
        assertTrue(svg.contains(">value of 1 invested, after costs</text>"), svg);
        pooled.get("rows").forEach(r -> assertTrue(svg.contains(">" + r.get("name").asText()), "full legend name " + r.get("name")));
        assertTrue(Pattern.compile(">majority class of training: within 0\\.000\\d+ of buy and hold \\(no costs\\) throughout, "
                + "drawn dashed on it</text>").matcher(svg).find(), svg);
        List<Double> ticks = Pattern.compile("class='tick' text-anchor='end'>([0-9.]+)<").matcher(svg).results()
                .map(m -> Double.parseDouble(m.group(1))).toList();
        double step = ticks.get(1) - ticks.get(0);
        double mantissa = step / Math.pow(10, Math.floor(Math.log10(step) + 1e-9));
        assertTrue(List.of(1L, 2L, 5L).contains(Math.round(mantissa)) && Math.abs(mantissa - Math.round(mantissa)) < 1e-6, ticks.toString());
        for (int i = 1; i < ticks.size(); i++) {
            assertEquals(step, ticks.get(i) - ticks.get(i - 1), 1e-9, ticks.toString());
        }
        assertTrue(ticks.get(0) > 1 || ticks.get(ticks.size() - 1) < 1 || ticks.contains(1.0), "1.0 is a tick: " + ticks);

        Matcher caption = Pattern.compile("(\\d+) of the ([\\d,]+) test windows, drawn at random \\(seed 42\\) and stratified by outcome "
                + "in proportion to the test period: (\\d+) right and (\\d+) wrong, as [^<]*'s ([\\d.]+)% accuracy").matcher(html);
        assertTrue(caption.find(), "the sample's caption");
        int right = Integer.parseInt(caption.group(3));
        int wrong = Integer.parseInt(caption.group(4));
        assertEquals(12, right + wrong);
        assertEquals(right, html.split("<div class='sample'>", -1).length - 1, "right windows shown");
        assertEquals(wrong, html.split("<div class='sample wrong'>", -1).length - 1, "wrong windows shown");
        double accuracy = pooled.get("rows").get(0).get("accuracy").get("value").asDouble();
        assertEquals(accuracy * 100, Double.parseDouble(caption.group(5)), 0.05);
        assertTrue(Math.abs(right - 12 * accuracy) <= 0.5, right + " right of 12 at accuracy " + accuracy);
    }

    @Test
    void foldsTrainEvaluateAndPoolPerSymbolAndResume() throws Exception {
        var spark = LocalSpark.get();
        String ingested = tmp.resolve("in").toString();
        OhlcIngest.ingest(spark, new OhlcIngest.Params(List.of(randomWalk(tmp, "AAA", 5, 420).toString(), randomWalk(tmp, "BBB", 6, 420).toString()), ingested, false));
        String out = tmp.resolve("wf").toString();
        String[] args = {"nifty", "walk-forward", "--in", ingested, "--out", out, "--window", "5", "--horizon", "1", "--folds", "2",
                "--model", "candle-cnn-small", "--epochs", "1", "--batch", "32", "--resamples", "200", "--master", "local[2]"};
        String first = run(args);
        assertTrue(first.contains("training candle-cnn-small-fold-1 on") && first.contains("training candle-cnn-small-fold-2-shuffled on"), first);

        JsonNode m = new ObjectMapper().readTree(Path.of(out, "metrics.json").toFile());
        JsonNode pooled = m.get("pooled");
        List<String> kinds = new ArrayList<>();
        pooled.get("rows").forEach(r -> kinds.add(r.get("kind").asText()));
        assertEquals(List.of("model", "shuffled-label control", "baseline", "baseline", "baseline"), kinds);
        long perFold = 0;
        for (String fold : List.of("fold-1", "fold-2")) {
            perFold += m.get("folds").get(fold).get("report").get("examples").asLong();
            assertTrue(Files.exists(Path.of(out, fold, "predictions.json")));
            assertEquals(2, m.get("folds").get(fold).get("training").size());
        }
        assertEquals(perFold, pooled.get("examples").asLong(), "pooled = every fold's test windows");
        List<String> symbols = new ArrayList<>();
        m.get("symbols").fieldNames().forEachRemaining(symbols::add);
        assertEquals(List.of("AAA", "BBB"), symbols);
        assertEquals(2, m.get("symbols").size());
        assertEquals(pooled.get("examples").asLong(),
                m.get("symbols").get("AAA").get("examples").asLong() + m.get("symbols").get("BBB").get("examples").asLong());
        JsonNode trading = pooled.get("rows").get(0).get("trading");
        assertTrue(trading.get("sharpeAfterCosts").asDouble() <= trading.get("sharpe").asDouble() + 1e-12, trading.toString());
        assertEquals(5.0, trading.get("costBps").asDouble());
        JsonNode majority = pooled.get("rows").get(2);
        for (String stat : List.of("accuracy", "balancedAccuracy", "auc")) {
            JsonNode ci = pooled.get("rows").get(0).get(stat);
            assertTrue(ci.get("low").asDouble() <= ci.get("value").asDouble() && ci.get("value").asDouble() <= ci.get("high").asDouble(), stat);
        }
        assertTrue(majority.get("name").asText().startsWith("majority"));

        String html = Files.readString(Path.of(out, "report.html"));
        for (String part : List.of("Sample test windows", "data:image/png;base64,", "id='equity'", "Per fold", "Per symbol",
                "shuffled-label control", "buy and hold", "predicted")) {
            assertTrue(html.contains(part), part);
        }

        theEquityChartAndTheSampleSayWhatTheyShow(html, pooled);

        lookAtTheReportInChromium(Path.of(out, "report.html"));

        String again = run(args);
        assertTrue(again.contains("candle-cnn-small-fold-1: in the store already") && again.contains("fold-2: evaluated already"), again);
        JsonNode m2 = new ObjectMapper().readTree(Path.of(out, "metrics.json").toFile());
        assertEquals(pooled.get("rows").get(0).get("auc"), m2.get("pooled").get("rows").get(0).get("auc"), "resumed run: same figures");
    }

    /**
     * {@code --ensemble 2} over a finished single-network run: the fold keeps its first model and control, trains a
     * second of each (the next seed) and evaluates again (the old predictions are of one network); the ensemble's score
     * of every test window is the mean of its members' probabilities (checked against each member's own predictions),
     * so the two networks must differ for the check to mean anything.
     */
    @Test
    void anEnsembleAveragesIndependentlySeededNetworks() throws Exception {
        var spark = LocalSpark.get();
        String ingested = tmp.resolve("in").toString();
        OhlcIngest.ingest(spark, new OhlcIngest.Params(List.of(randomWalk(tmp, "AAA", 5, 420).toString()), ingested, false));
        String out = tmp.resolve("wf").toString();
        String[] args = {"nifty", "walk-forward", "--in", ingested, "--out", out, "--window", "5", "--horizon", "1", "--folds", "2",
                "--only-fold", "fold-2", "--model", "candle-cnn-small", "--epochs", "1", "--batch", "32", "--resamples", "200",
                "--master", "local[2]"};
        run(args);
        // The same output again with --ensemble 2: the first networks are kept, the second ones trained, the fold evaluated again.
        String printed = run(TestData.concat(args, "--ensemble", "2"));
        for (String name : List.of("fold-2", "fold-2-shuffled")) {
            assertTrue(printed.contains("candle-cnn-small-" + name + ": in the store already"), name + ": " + printed);
        }
        for (String name : List.of("fold-2-run2", "fold-2-run2-shuffled")) {
            assertTrue(printed.contains("training candle-cnn-small-" + name + " on"), name + ": " + printed);
        }
        assertTrue(printed.contains("holds other networks' predictions (another --ensemble); evaluating again"), printed);
        JsonNode m = new ObjectMapper().readTree(Path.of(out, "metrics.json").toFile());
        assertEquals(4, m.get("folds").get("fold-2").get("training").size());
        assertEquals("candle-cnn-small (ensemble of 2)", m.get("pooled").get("rows").get(0).get("name").asText());

        NiftyEvaluation.TestSet set = WalkForward.read(Files.readString(Path.of(out, "fold-2", "predictions.json")));
        var models = new sparkconv.store.ModelStore(Path.of(out, "store").toUri().toString(), spark.sparkContext().hadoopConfiguration());
        String shards = Path.of(out, "shards", "fold-2").toUri().toString();
        for (String kind : List.of("model", "shuffled-label control")) {
            String suffix = kind.equals("model") ? "" : "-shuffled";
            NiftyEvaluation.TestSet members = NiftyEvaluation.predict(spark, shards, List.of(
                    new NiftyEvaluation.Candidate("1", "member", models.load("candle-cnn-small-fold-2" + suffix, "latest")),
                    new NiftyEvaluation.Candidate("2", "member", models.load("candle-cnn-small-fold-2-run2" + suffix, "latest"))));
            double[] first = members.rows().get(0).score();
            double[] second = members.rows().get(1).score();
            double[] ensemble = set.rows().stream().filter(r -> r.kind().equals(kind)).findFirst().orElseThrow().score();
            double apart = 0;
            for (int i = 0; i < ensemble.length; i++) {
                assertEquals((first[i] + second[i]) / 2, ensemble[i], 1e-6, kind + ": window " + i + " is the members' mean");
                apart = Math.max(apart, Math.abs(first[i] - second[i]));
            }
            assertTrue(apart > 1e-4, kind + ": the two seeds trained different networks (largest score difference " + apart + ")");
        }
    }
}
