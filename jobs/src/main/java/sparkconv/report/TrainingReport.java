package sparkconv.report;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import javax.imageio.ImageIO;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.indexing.NDArrayIndex;

import sparkconv.eval.NiftyEvaluation;
import sparkconv.shards.Manifest;
import sparkconv.shards.ShardBytes;
import sparkconv.spark.Fs;
import sparkconv.store.ModelStore;

/**
 * {@code report.html} of a model version: one self-contained file (inline SVG and CSS, images as data URIs, no
 * scripts, nothing fetched) with the loss and accuracy curves per epoch, the confusion-matrix heat map, the per-class
 * table, the time split from Spark's training statistics and sample test predictions. Everything comes from the
 * version's metadata.json / metrics.json, plus the model and the first test shard for the samples.
 */
public final class TrainingReport {
    public static final String FILE = "report.html";
    public static final int SAMPLES = 24;

    private TrainingReport() {
    }

    /** A test image with the model's prediction. */
    public record Sample(String pngDataUri, String predicted, double confidence, String actual) {
    }

    /** A segmentation test mosaic with its true and predicted masks (palette PNGs) and its pixel accuracy. */
    public record MaskSample(String image, String truth, String predicted, double pixelAccuracy) {
    }

    /** Mask colours: background black, then ten distinct hues. */
    static final int[] PALETTE = {0x000000, 0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd, 0x8c564b, 0xe377c2,
            0xbcbd22, 0x17becf, 0xf0f0f0};

    /**
     * What {@code report} re-renders: one stored model version.
     *
     * @param version a version of {@code name}, or latest / best
     */
    public record Params(String store, String name, String version) {
    }

    /** Renders and writes {@code report.html} into the version's directory; returns its URI. */
    public static String write(Configuration conf, Params p) {
        return write(new ModelStore(p.store(), conf), conf, p.name(), p.version());
    }

    /** Renders and writes {@code report.html} into the version's directory; returns its URI. */
    public static String write(ModelStore store, Configuration conf, String name, String version) {
        ModelStore.Version v = store.get(name, version);
        List<Sample> samples = List.of();
        String samplesNote = null;
        Object data = v.metadata().get("data");
        Object shardDir = data instanceof Map<?, ?> d ? d.get("shards") : null;
        List<MaskSample> masks = List.of();
        boolean segmentation = "segmentation".equals(v.metadata().get("task"));
        if (shardDir != null && Fs.exists(Fs.child(shardDir.toString(), Manifest.FILE), conf)) {
            Manifest manifest = Manifest.read(shardDir.toString(), conf);
            if (segmentation) {
                masks = maskSamples(store.loadGraph(name, v.version()), manifest, shardDir.toString(), conf);
            } else {
                samples = samples(store.load(name, v.version()), manifest, shardDir.toString(), conf);
            }
        } else {
            samplesNote = "The training shards (" + shardDir + ") are no longer readable: no sample predictions.";
        }
        Path out = new Path(v.uri(), FILE);
        Fs.writeString(out, html(v, samples, masks, samplesNote, NiftyEvaluation.storedInVersion(v.uri(), conf)), conf);
        return out.toString();
    }

    private static DataSet firstTestShard(Manifest manifest, String shardDir, Configuration conf) {
        DataSet ds = ShardBytes.decode(Fs.readBytes(new Path(manifest.shardUris(shardDir, "test").get(0)), conf));
        return ds;
    }

    static List<MaskSample> maskSamples(ComputationGraph graph, Manifest manifest, String shardDir, Configuration conf) {
        DataSet ds = firstTestShard(manifest, shardDir, conf);
        int n = Math.min(SAMPLES / 3, ds.numExamples());
        INDArray features = ds.getFeatures().get(NDArrayIndex.interval(0, n));
        INDArray predicted = graph.outputSingle(false, features).argMax(1);
        INDArray truth = ds.getLabels().get(NDArrayIndex.interval(0, n)).argMax(1);
        List<MaskSample> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            INDArray t = truth.slice(i);
            INDArray p = predicted.slice(i);
            double correct = t.eq(p).castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT).meanNumber().doubleValue();
            out.add(new MaskSample(png(features.slice(i), manifest.normalisation()), mask(t), mask(p), correct));
        }
        return out;
    }

    /** A class-index mask (H, W) as a palette PNG. */
    static String mask(INDArray hw) {
        int h = (int) hw.size(0);
        int w = (int) hw.size(1);
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, PALETTE[Math.floorMod(hw.getInt(y, x), PALETTE.length)]);
            }
        }
        return dataUri(img);
    }

    static List<Sample> samples(MultiLayerNetwork net, Manifest manifest, String shardDir, Configuration conf) {
        DataSet ds = firstTestShard(manifest, shardDir, conf);
        int n = Math.min(SAMPLES, ds.numExamples());
        INDArray features = ds.getFeatures();
        INDArray probs = net.output(features.get(NDArrayIndex.interval(0, n)), false);
        List<Sample> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int predicted = probs.getRow(i).argMax().getInt(0);
            int actual = ds.getLabels().getRow(i).argMax().getInt(0);
            out.add(new Sample(png(features.slice(i), manifest.normalisation()), manifest.classes().get(predicted),
                    probs.getDouble(i, predicted), manifest.classes().get(actual)));
        }
        return out;
    }

    /** One (C, H, W) normalised image back to pixels, as a PNG data URI. */
    static String png(INDArray chw, Manifest.Normalisation norm) {
        int c = (int) chw.size(0);
        int h = (int) chw.size(1);
        int w = (int) chw.size(2);
        BufferedImage img = new BufferedImage(w, h, c == 3 ? BufferedImage.TYPE_INT_RGB : BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int[] v = new int[3];
                for (int ch = 0; ch < 3; ch++) {
                    double f = chw.getDouble(Math.min(ch, c - 1), y, x);
                    v[ch] = (int) Math.max(0, Math.min(255, Math.round((f * norm.std() + norm.mean()) / norm.scale())));
                }
                img.setRGB(x, y, (v[0] << 16) | (v[1] << 8) | v[2]);
            }
        }
        return dataUri(img);
    }

    private static String dataUri(BufferedImage img) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            ImageIO.write(img, "png", bytes);
            return "data:image/png;base64," + Base64.getEncoder().encodeToString(bytes.toByteArray());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** @param trading a chart-window model's figures on its test period ({@code train} stores them), or null */
    public static String html(ModelStore.Version v, List<Sample> samples, List<MaskSample> masks, String samplesNote,
                              NiftyEvaluation.Report trading) {
        Map<String, Object> meta = v.metadata();
        Map<String, Object> metrics = v.metrics();
        StringBuilder sb = new StringBuilder();
        sb.append("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>")
                .append(Html.esc(v.name() + " " + v.version())).append("</title><style>")
                .append("body{font:14px/1.4 sans-serif;margin:24px;color:#222;max-width:1000px}")
                .append("h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}")
                .append("table{border-collapse:collapse}td,th{padding:3px 8px;border:1px solid #ddd;text-align:right}")
                .append("th{background:#f4f4f4}td.l,th.l{text-align:left}tr.model td{font-weight:bold}h3{font-size:15px}.cm td{width:34px;height:26px;font-size:11px;text-align:center}")
                .append(".chart .title{font-weight:bold;font-size:13px}.chart .tick{font-size:11px;fill:#444}")
                .append(".chart .plot{fill:#fafafa;stroke:#bbb}.chart .grid{stroke:#e4e4e4}")
                .append(".charts{display:flex;flex-wrap:wrap;gap:16px}.bar{background:#1f77b4;height:12px;display:inline-block}")
                .append(".samples{display:flex;flex-wrap:wrap;gap:8px}.sample{width:104px;font-size:11px;text-align:center;")
                .append("border:2px solid #2ca02c;padding:3px}.sample.wrong{border-color:#d62728}")
                .append(".sample img{width:84px;height:84px;image-rendering:pixelated}.muted{color:#777}")
                .append(".mask{font-size:11px;text-align:center;border:1px solid #ccc;padding:4px}")
                .append(".mask img{width:112px;height:112px;image-rendering:pixelated;margin:1px}")
                .append("</style></head><body>");
        sb.append("<h1>").append(Html.esc(v.name())).append(" ").append(Html.esc(v.version())).append("</h1>");
        summary(sb, meta, metrics);
        curves(sb, metrics);
        Object test = metrics.get("test");
        if (test instanceof Map<?, ?> t) {
            confusion(sb, t);
            perClass(sb, t);
        }
        if (trading != null) {
            sb.append("<h2>Trading figures on the test period</h2><p>").append(Html.esc(trading.title()))
                    .append(String.format(Locale.ROOT, ": %s, %,d windows, direction over the next %d days; 95%% block-bootstrap "
                            + "intervals. %s</p>", Html.esc(trading.testDates()), trading.examples(), trading.horizon(),
                            trading.rows().get(0).kind().equals("model")
                                    ? "Its shuffled-label control is a model of its own: nifty evaluate and nifty walk-forward put it beside this one."
                                    : "This version was trained on shuffled labels: it is a control, to be put beside a model by nifty evaluate."));
            NiftyReport.figures(sb, trading);
        }
        timeSplit(sb, metrics);
        sb.append("<h2>Sample test predictions</h2>");
        if (samplesNote != null) {
            sb.append("<p class='muted'>").append(Html.esc(samplesNote)).append("</p>");
        }
        sb.append("<div class='samples'>");
        for (Sample s : samples) {
            boolean right = s.predicted().equals(s.actual());
            sb.append("<div class='sample").append(right ? "" : " wrong").append("'><img alt='test image' src='")
                    .append(s.pngDataUri()).append("'><br>pred <b>").append(Html.esc(s.predicted()))
                    .append(String.format(Locale.ROOT, "</b> %.2f<br>true %s</div>", s.confidence(), Html.esc(s.actual())));
        }
        for (MaskSample m : masks) {
            sb.append("<div class='mask'><img alt='mosaic' src='").append(m.image()).append("'><img alt='true mask' src='")
                    .append(m.truth()).append("'><img alt='predicted mask' src='").append(m.predicted())
                    .append(String.format(Locale.ROOT, "'><br>input, truth, prediction: pixel accuracy %.3f</div>", m.pixelAccuracy()));
        }
        sb.append("</div>");
        if (!masks.isEmpty()) {
            sb.append("<p>Mask colours: ");
            List<?> classes = meta.get("classes") instanceof List<?> l ? l : List.of();
            for (int c = 0; c < classes.size(); c++) {
                sb.append(String.format("<span style='background:#%06x;display:inline-block;width:12px;height:12px;border:1px solid #999'></span> %s &nbsp;",
                        PALETTE[c % PALETTE.length], Html.esc(classes.get(c))));
            }
            sb.append("</p>");
        }
        sb.append("<p class='muted'>Generated by sparkconv ").append(Html.esc(versionOf(meta))).append(" from ")
                .append(Html.esc(v.uri())).append("</p></body></html>\n");
        return sb.toString();
    }

    private static void summary(StringBuilder sb, Map<String, Object> meta, Map<String, Object> metrics) {
        sb.append("<table>");
        row(sb, "model", meta.get("model"));
        row(sb, "created", meta.get("created"));
        if (metrics.get("test") instanceof Map<?, ?> t && t.containsKey("pixelAccuracy")) {
            row(sb, "test (segmentation)", "pixel accuracy " + fmt(t.get("pixelAccuracy")) + ", mIoU " + fmt(t.get("meanIoU"))
                    + " (foreground " + fmt(t.get("foregroundMeanIoU")) + "), boundary IoU " + fmt(t.get("meanBoundaryIoU"))
                    + " (foreground " + fmt(t.get("foregroundMeanBoundaryIoU")) + ") on " + t.get("images") + " images");
        } else if (metrics.get("test") instanceof Map<?, ?> t) {
            row(sb, "test accuracy", fmt(t.get("accuracy")) + " on " + t.get("examples") + " examples (macro F1 " + fmt(t.get("macroF1")) + ")");
        }
        if (meta.get("training") instanceof Map<?, ?> tr) {
            row(sb, "training", tr.get("master") + ", " + tr.get("workers") + " workers, averaging every "
                    + tr.get("averagingFrequency") + ", batch " + tr.get("batchSizePerWorker") + ", " + tr.get("epochsRun")
                    + " of " + tr.get("epochs") + " epochs in " + fmt(tr.get("seconds")) + " s on " + tr.get("sparkMaster"));
            row(sb, "schedule", "lr " + tr.get("lrSchedule") + ", patience " + tr.get("patience")
                    + (Boolean.TRUE.equals(tr.get("stoppedEarly")) ? ", stopped early; best epoch " + tr.get("bestEpoch") : "")
                    + (tr.get("resumedAtEpoch") != null ? ", resumed at epoch " + tr.get("resumedAtEpoch") : ""));
        }
        if (meta.get("hyperParameters") instanceof Map<?, ?> h) {
            row(sb, "hyper-parameters", h);
        }
        sb.append("</table>");
    }

    private static void row(StringBuilder sb, String k, Object v) {
        sb.append("<tr><th class='l'>").append(Html.esc(k)).append("</th><td class='l'>").append(Html.esc(v)).append("</td></tr>");
    }

    private static void curves(StringBuilder sb, Map<String, Object> metrics) {
        if (!(metrics.get("epochs") instanceof List<?> epochs) || epochs.isEmpty()) {
            return;
        }
        sb.append("<h2>Training curves</h2><div class='charts'>");
        sb.append(Svg.lineChart("Loss per epoch", "epoch", List.of(
                new Svg.Series("train (last batch)", series(epochs, "loss")),
                new Svg.Series("validation", series(epochs, "validationLoss")))));
        sb.append(Svg.lineChart("Accuracy per epoch", "epoch", List.of(
                new Svg.Series("train (sample)", series(epochs, "trainAccuracy")),
                new Svg.Series("validation", series(epochs, "validationAccuracy")))));
        sb.append("</div><table><tr><th>epoch</th><th>loss</th><th>val loss</th><th>train acc</th><th>val acc</th>")
                .append("<th>lr</th><th>ex/s</th><th>seconds</th></tr>");
        for (Object o : epochs) {
            if (o instanceof Map<?, ?> e) {
                sb.append("<tr><td>").append(e.get("epoch")).append("</td><td>").append(fmt(e.get("loss")))
                        .append("</td><td>").append(fmt(e.get("validationLoss"))).append("</td><td>").append(fmt(e.get("trainAccuracy")))
                        .append("</td><td>").append(fmt(e.get("validationAccuracy"))).append("</td><td>").append(String.format(Locale.ROOT, "%.3g", num(e.get("learningRate"))))
                        .append("</td><td>").append(String.format(Locale.ROOT, "%,.0f", num(e.get("examplesPerSecond"))))
                        .append("</td><td>").append(fmt(e.get("seconds"))).append("</td></tr>");
            }
        }
        sb.append("</table>");
    }

    private static void confusion(StringBuilder sb, Map<?, ?> test) {
        if (!(test.get("confusion") instanceof List<?> rows) || !(test.get("perClass") instanceof List<?> per)) {
            return;
        }
        sb.append("<h2>Confusion matrix (test; rows true, columns predicted; shade = share of the row)</h2><table class='cm'><tr><th></th>");
        for (int j = 0; j < per.size(); j++) {
            sb.append("<th title='").append(Html.esc(className(per, j))).append("'>").append(j).append("</th>");
        }
        sb.append("</tr>");
        for (int i = 0; i < rows.size(); i++) {
            List<?> r = (List<?>) rows.get(i);
            double total = r.stream().mapToDouble(TrainingReport::num).sum();
            sb.append("<tr><th class='l'>").append(i).append(" ").append(Html.esc(className(per, i))).append("</th>");
            for (Object c : r) {
                double f = total == 0 ? 0 : num(c) / total;
                sb.append("<td style='background:").append(Html.heat(f)).append(f > 0.5 ? ";color:#fff" : "").append("'>")
                        .append(Html.esc(c)).append("</td>");
            }
            sb.append("</tr>");
        }
        sb.append("</table>");
    }

    private static void perClass(StringBuilder sb, Map<?, ?> test) {
        if (!(test.get("perClass") instanceof List<?> per)) {
            return;
        }
        if (!per.isEmpty() && per.get(0) instanceof Map<?, ?> first && first.containsKey("iou")) {
            sb.append("<h2>Per class (test pixels)</h2><table><tr><th class='l'>class</th><th>pixels</th><th>IoU</th><th>boundary IoU</th></tr>");
            for (Object o : per) {
                Map<?, ?> c = (Map<?, ?>) o;
                sb.append("<tr><td class='l'>").append(Html.esc(c.get("name"))).append("</td><td>").append(c.get("pixels"))
                        .append("</td><td>").append(fmt(c.get("iou"))).append("</td><td>").append(fmt(c.get("boundaryIoU"))).append("</td></tr>");
            }
            sb.append("</table>");
            return;
        }
        sb.append("<h2>Per class (test)</h2><table><tr><th class='l'>class</th><th>support</th><th>precision</th><th>recall</th><th>F1</th></tr>");
        for (Object o : per) {
            if (o instanceof Map<?, ?> c) {
                sb.append("<tr><td class='l'>").append(Html.esc(c.get("name"))).append("</td><td>").append(c.get("support"))
                        .append("</td><td>").append(fmt(c.get("precision"))).append("</td><td>").append(fmt(c.get("recall")))
                        .append("</td><td>").append(fmt(c.get("f1"))).append("</td></tr>");
            }
        }
        sb.append("</table>");
    }

    private static void timeSplit(StringBuilder sb, Map<String, Object> metrics) {
        sb.append("<h2>Where the time went (Spark training statistics)</h2>");
        if (!(metrics.get("timeSplit") instanceof Map<?, ?> split) || split.isEmpty()) {
            sb.append("<p class='muted'>Not collected: train with --stats.</p>");
            return;
        }
        double max = split.values().stream().mapToDouble(e -> num(((Map<?, ?>) e).get("totalMs"))).max().orElse(1);
        sb.append("<table><tr><th class='l'>event</th><th>count</th><th>total s</th><th>mean ms</th><th class='l'></th></tr>");
        for (Object o : split.values()) {
            Map<?, ?> e = (Map<?, ?>) o;
            double ms = num(e.get("totalMs"));
            double count = num(e.get("events"));
            sb.append("<tr><td class='l'>").append(Html.esc(e.get("name"))).append("</td><td>").append(e.get("events"))
                    .append(String.format(Locale.ROOT, "</td><td>%.2f</td><td>%.1f</td>", ms / 1000, count == 0 ? 0 : ms / count))
                    .append(String.format(Locale.ROOT, "<td class='l'><span class='bar' style='width:%dpx'></span></td></tr>",
                            (int) Math.round(240 * ms / Math.max(1, max))));
        }
        sb.append("</table><p class='muted'>Worker events are summed over all workers and rounds, so they can exceed the wall time.</p>");
    }

    private static String className(List<?> per, int i) {
        return per.get(i) instanceof Map<?, ?> m ? String.valueOf(m.get("name")) : Integer.toString(i);
    }

    private static double[] series(List<?> epochs, String key) {
        return epochs.stream().mapToDouble(o -> o instanceof Map<?, ?> m ? num(m.get(key)) : Double.NaN).toArray();
    }

    static double num(Object o) {
        if (o instanceof Number n) {
            return n.doubleValue();
        }
        try {
            return o == null ? Double.NaN : Double.parseDouble(o.toString());
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }

    private static String fmt(Object o) {
        double v = num(o);
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.4f", v) : "-";
    }

    private static String versionOf(Map<String, Object> meta) {
        return meta.get("versions") instanceof Map<?, ?> m ? String.valueOf(m.get("sparkconv")) : "";
    }
}
