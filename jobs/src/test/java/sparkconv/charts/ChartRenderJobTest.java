package sparkconv.charts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.FileInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.dataset.DataSet;

import sparkconv.LocalSpark;
import sparkconv.data.OhlcIngest;
import sparkconv.cli.Main;
import sparkconv.shards.Manifest;

class ChartRenderJobTest {
    @TempDir
    Path tmp;
    String ingested;

    @BeforeEach
    void ingest() throws Exception {
        Path csv = Files.writeString(tmp.resolve("SYN.csv"), Series.csv(Series.randomWalkRows("SYN", 400, 11)));
        ingested = tmp.resolve("ingested").toString();
        OhlcIngest.ingest(LocalSpark.get(), new OhlcIngest.Params(List.of(csv.toString()), ingested, false));
    }

    @Test
    void ohlcImagesBecomeShardsWithWindowLineage() throws Exception {
        var spec = new ChartWindows.Spec(5, 1, ChartStyle.OHLC, 1, 0, "time", 0.7, 0.15, 0, 1, 0);
        List<ChartRenderJob.Output> out = ChartRenderJob.run(LocalSpark.get(), ingested, tmp.resolve("shards").toString(), spec, 32, false);
        Manifest m = out.get(0).result().manifest();
        assertFalse(out.get(0).result().upToDate());
        assertTrue(ChartRenderJob.run(LocalSpark.get(), ingested, tmp.resolve("shards").toString(), spec, 32, false).get(0).result().upToDate(),
                "a re-run with the same inputs and options finds the shards complete");
        assertEquals(new Manifest.Shape(1, 32, 15), m.shape());
        assertEquals(List.of("down", "up"), m.classes());
        assertEquals("5", m.lineage().get("window"));
        assertEquals("ohlc", m.lineage().get("style"));
        assertEquals("6", m.lineage().get("embargo"));
        assertTrue(m.lineage().get("test.labelBalance").matches("down 0\\.\\d{3} up 0\\.\\d{3}"), m.lineage().toString());
        long windows = 400 - 9 - 1;
        long kept = m.splits().values().stream().mapToLong(Manifest.Split::examples).sum();
        assertEquals(windows - 2 * 6, kept);
        String[] trainDates = m.lineage().get("train.dates").split("\\.\\.");
        String[] testDates = m.lineage().get("test.dates").split("\\.\\.");
        assertTrue(trainDates[1].compareTo(testDates[0]) < 0);

        // the same windows re-rendered locally equal the pixels stored in the first training shard (after normalisation)
        var series = ChartRenderJob.series(LocalSpark.get(), ingested);
        var first = ChartWindows.plan(series, spec).get(0).splits().get("train").subList(0, 32);
        byte[] px = ChartWindows.renderImages(series, first, ChartGeometry.forWindow(5), ChartStyle.OHLC);
        DataSet ds = new DataSet();
        try (var in = new FileInputStream(tmp.resolve("shards/train/shard-00000.bin").toFile())) {
            ds.load(in);
        }
        float[] stored = ds.getFeatures().data().asFloat();
        for (int i = 0; i < px.length; i += 7) {
            assertEquals(((px[i] & 0xff) / 255.0 - m.normalisation().mean()) / m.normalisation().std(), stored[i], 1e-4);
        }
    }

    @Test
    void returnTensorsUseTheFloatShardPath() {
        var spec = new ChartWindows.Spec(20, 5, ChartStyle.RETURNS, 4, 0, "time", 0.6, 0.2, 0, 1, 0);
        Manifest m = ChartRenderJob.run(LocalSpark.get(), ingested, tmp.resolve("returns").toString(), spec, 64, false)
                .get(0).result().manifest();
        assertEquals(new Manifest.Shape(4, 1, 20), m.shape());
        assertEquals(1.0, m.normalisation().scale());
        assertTrue(m.normalisation().std() > 0.001 && m.normalisation().std() < 0.1, "std of daily log returns");
    }

    @Test
    void walkForwardWritesOneShardDirectoryPerFoldAndCliRejectsBadInput() {
        var spec = new ChartWindows.Spec(5, 1, ChartStyle.CANDLE, 1, 0, "walk-forward", 0.7, 0.15, 0, 2, 0);
        List<ChartRenderJob.Output> out = ChartRenderJob.run(LocalSpark.get(), ingested, tmp.resolve("wf").toString(), spec, 64, false);
        assertEquals(2, out.size());
        assertTrue(Files.exists(tmp.resolve("wf/fold-2/manifest.json")));
        assertEquals("fold-2", out.get(1).result().manifest().lineage().get("fold"));

        String shards = tmp.resolve("bad").toString();
        for (String[] bad : new String[][]{{"--window", "400", "--horizon", "1", "--style", "returns"},
                {"--window", "20", "--horizon", "0"}, {"--window", "20", "--horizon", "1", "--style", "heikin"},
                {"--window", "20", "--horizon", "1", "--split", "random"}, {"--window", "7", "--horizon", "1"}}) {
            List<String> args = new java.util.ArrayList<>(List.of("nifty", "render", "--in", ingested, "--out", shards,
                    "--master", "local[2]"));
            args.addAll(List.of(bad));
            assertEquals(2, Main.run(args.toArray(String[]::new)), String.join(" ", bad));
            assertFalse(Files.exists(tmp.resolve("bad")), "nothing half-written for " + String.join(" ", bad));
        }
    }

    @Test
    void previewWritesLabelledPngs() throws Exception {
        var series = ChartRenderJob.series(LocalSpark.get(), ingested);
        var spec = new ChartWindows.Spec(20, 5, ChartStyle.OHLC, 1, 0, "time", 0.7, 0.15, 0, 1, 0);
        var windows = ChartWindows.windows(series, spec);
        List<String> files = ChartPreview.write(series, windows, ChartWindows.labels(series, windows, spec, "test"),
                spec.labels().classNames(), ChartGeometry.forWindow(20), ChartStyle.OHLC, 3, 2, tmp.resolve("png").toString(),
                new org.apache.hadoop.conf.Configuration());
        assertEquals(3, files.size());
        assertTrue(files.get(0).matches(".*/SYN_\\d{4}-\\d{2}-\\d{2}_(up|down)\\.png"), files.get(0));
        var img = javax.imageio.ImageIO.read(new java.net.URL(files.get(0)));
        assertEquals(120, img.getWidth());
        assertEquals(128, img.getHeight());
    }
}
