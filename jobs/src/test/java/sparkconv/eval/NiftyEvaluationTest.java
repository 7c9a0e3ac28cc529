package sparkconv.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static sparkconv.cli.CommandHarness.assertOneLineError;
import static sparkconv.cli.CommandHarness.run;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import sparkconv.LocalSpark;
import sparkconv.TestData;
import sparkconv.charts.ChartRenderJob;
import sparkconv.charts.ChartStyle;
import sparkconv.charts.ChartWindows;
import sparkconv.data.OhlcIngest;
import sparkconv.cli.Main;
import sparkconv.store.ModelStore;

/** End to end on a synthetic random walk: ingest, render, train (which stores each version's own trading figures), evaluate. */
class NiftyEvaluationTest {
    @TempDir
    Path tmp;

    @Test
    void reportsModelBaselinesAndControlOnTheSameTestWindows() throws Exception {
        StringBuilder csv = new StringBuilder("Date,Open,High,Low,Close,Volume\n");
        Random r = new Random(5);
        double close = 100;
        LocalDate d = LocalDate.of(2005, 1, 3);
        for (int i = 0; i < 500; i++) {
            double open = close * (1 + 0.01 * r.nextGaussian());
            close = open * (1 + 0.01 * r.nextGaussian());
            csv.append(d.plusDays(i)).append(',').append(open).append(',').append(Math.max(open, close) * 1.003).append(',')
                    .append(Math.min(open, close) * 0.997).append(',').append(close).append(',').append(1000 + r.nextInt(500)).append('\n');
        }
        Path file = Files.writeString(tmp.resolve("RW.csv"), csv.toString());
        var spark = LocalSpark.get();
        String ingested = tmp.resolve("in").toString();
        OhlcIngest.ingest(spark, new OhlcIngest.Params(List.of(file.toString()), ingested, false));
        String shards = tmp.resolve("shards").toString();
        String control = tmp.resolve("control").toString();
        ChartRenderJob.run(spark, ingested, shards, new ChartWindows.Spec(5, 1, ChartStyle.OHLC, 1, 0, "time", 0.6, 0.1, 0, 1, 0), 32, false);
        ChartRenderJob.run(spark, ingested, control, new ChartWindows.Spec(5, 1, ChartStyle.OHLC, 1, 0, "time", 0.6, 0.1, 0, 1, 3), 32, false);

        String store = tmp.resolve("store").toString();
        for (String[] trained : List.of(new String[]{shards, "m"}, new String[]{control, "c"})) {
            assertEquals(0, Main.run("train", "--shards", trained[0], "--store", store, "--name", trained[1], "--model", "candle-cnn-small",
                    "--epochs", "1", "--updater", "nesterovs", "--lr", "0.005", "--seed", "1", "--master", "local[2]"));
        }

        assertEquals(0, Main.run("nifty", "evaluate", "--shards", shards, "--store", store, "--model", "m", "--control", "c",
                "--out", tmp.resolve("eval").toString(), "--resamples", "200", "--master", "local[2]"));
        var report = new com.fasterxml.jackson.databind.ObjectMapper().readTree(tmp.resolve("eval/metrics.json").toFile());
        assertEquals(5, report.get("rows").size());
        assertEquals("m", report.get("rows").get(0).get("name").asText());
        assertEquals("shuffled-label control", report.get("rows").get(1).get("kind").asText());
        assertEquals(0.5, report.get("rows").get(2).get("balancedAccuracy").get("value").asDouble(), 1e-12, "majority baseline");
        long examples = report.get("examples").asLong();
        assertTrue(examples > 100, "test windows: " + examples);
        for (var row : report.get("rows")) {
            var acc = row.get("accuracy");
            assertTrue(acc.get("low").asDouble() <= acc.get("value").asDouble() && acc.get("value").asDouble() <= acc.get("high").asDouble(),
                    row.toString());
        }
        assertTrue(Files.readString(tmp.resolve("eval/report.txt")).contains("after 5.0 bps per side"));

        // train wrote each chart-window version's own figures on its test period, and its report.html shows them.
        var version = tmp.resolve("store/models/m/v1");
        var own = new com.fasterxml.jackson.databind.ObjectMapper().readTree(version.resolve("trading/metrics.json").toFile());
        assertEquals(4, own.get("rows").size(), "the model and the three baselines");
        assertEquals("model", own.get("rows").get(0).get("kind").asText());
        assertEquals(report.get("rows").get(0).get("accuracy").get("value"), own.get("rows").get(0).get("accuracy").get("value"),
                "the same accuracy on the same windows as nifty evaluate's");
        assertEquals(report.get("rows").get(0).get("trading").get("sharpeAfterCosts"), own.get("rows").get(0).get("trading").get("sharpeAfterCosts"));
        String html = Files.readString(version.resolve("report.html"));
        assertTrue(html.contains("Trading figures on the test period") && html.contains("id='equity'") && html.contains("buy and hold"), html);
        var controlFigures = new com.fasterxml.jackson.databind.ObjectMapper().readTree(tmp.resolve("store/models/c/v1/trading/metrics.json").toFile());
        assertEquals("shuffled-label control", controlFigures.get("rows").get(0).get("kind").asText());
        assertTrue(Files.readString(tmp.resolve("store/models/c/v1/report.html")).contains("trained on shuffled labels: it is a control"));
        assertEquals(2, Main.run("nifty", "evaluate", "--shards", shards, "--store", store, "--model", "c",
                "--out", tmp.resolve("refused").toString(), "--master", "local[2]"), "a shuffled-label model is only a control");
        assertTrue(new ModelStore(store, spark.sparkContext().hadoopConfiguration()).modelNames().containsAll(List.of("m", "c")));
    }

    /** The figures' settings are checked the same way by nifty evaluate and walk-forward, in one line, before Spark starts. */
    @Test
    void badFigureSettingsAreOneLineErrors() {
        String[] evaluate = {"nifty", "evaluate", "--shards", "s", "--store", "st", "--model", "m", "--out", "o"};
        String[] walkForward = {"nifty", "walk-forward", "--in", "i", "--out", "o", "--model", "candle-cnn-5", "--window", "5", "--horizon", "5"};
        for (String[] command : List.of(evaluate, walkForward)) {
            assertOneLineError(run(TestData.concat(command, "--resamples", "50")), 2, "--resamples must be at least 100, got 50");
            assertOneLineError(run(TestData.concat(command, "--cost-bps", "-1")), 2, "--cost-bps must be 0 or more, got -1.0");
        }
        assertOneLineError(run(TestData.concat(walkForward, "--ensemble", "0")), 2, "--ensemble must be at least 1, got 0");
    }
}
