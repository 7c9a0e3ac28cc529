package sparkconv.bench;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.hadoop.conf.Configuration;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;

import sparkconv.cli.Main;
import sparkconv.ml.CnnClassificationModel;
import sparkconv.ml.CnnClassifier;
import sparkconv.score.ScoreJob;
import sparkconv.spark.SparkSessions;
import sparkconv.store.ModelStore;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.array_position;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.regexp_extract;
import static org.apache.spark.sql.functions.url_decode;

/**
 * sparkconv inside Spark ML against the commands it wraps (issue 26), in one JVM on the same 28x28 PNGs (MakeImages'
 * folder): (a) {@code preprocess} + {@code train} (the CLI, run in this JVM by {@link Main#run}) against
 * {@link CnnClassifier#fit} on a DataFrame of the same files, from Spark's {@code image} source and from
 * {@code binaryFile}, with the same model, epochs, seed and training images (fit holds out the CLI's validation and test
 * shares as its validation share); each wall time split into training (the trainer's epochs, from the version's
 * metadata) and the rest; (b) {@code score}'s images/s against {@link CnnClassificationModel#transform} of a binaryFile
 * DataFrame into Parquet, as {@link Runs}; (c) {@code score --watch} (sparkconv.ml.WatchJob) on files landing in waves:
 * per-micro-batch wall time (median, p90) and images/s, from the command's own lines. Run by bench/run ml. Arguments: DATA_DIR [MASTER] [EPOCHS] [WAVES]
 */
public class MlBench {
    static final double HELD_OUT = 0.1;
    static final Pattern BATCH = Pattern.compile("batch (\\d+): ([\\d,]+) images?, [\\d,]+ with errors in ([\\d.]+) s, .*");

    public static void main(String[] args) throws Exception {
        Path folder = Path.of(args[0]).resolve("folder");
        String master = args.length > 1 ? args[1] : "local[2]";
        int epochs = args.length > 2 ? Integer.parseInt(args[2]) : 2;
        int waves = args.length > 3 ? Integer.parseInt(args[3]) : 6;
        // --quick (one measured run): no warm-up round of the trainings either
        int warmUp = Runs.MEASURED == 1 ? 0 : 1;
        int measured = Runs.MEASURED == 1 ? 1 : 3;
        SparkSession spark = SparkSessions.getOrCreate(Map.of("spark.master", master, "spark.ui.enabled", "false",
                "spark.app.name", "ml-bench"));
        // as docs/spark-ml.md advises for folders of small images: else a task (and a job's scheduling) per 1 KB PNG
        spark.conf().set("spark.sql.files.openCostInBytes", "16384");
        Path work = Files.createTempDirectory("ml-bench");
        try {
            String store = work.resolve("store").toString();
            List<String> classes = ScoreBench.classes();
            Dataset<Row> images = spark.read().format("image").option("recursiveFileLookup", "true").load(folder.toString())
                    .withColumn("label", labelOf(col("image.origin"), classes));
            Dataset<Row> files = spark.read().format("binaryFile").option("recursiveFileLookup", "true").load(folder.toString())
                    .withColumn("label", labelOf(col("path"), classes));
            CnnClassifier cnn = new CnnClassifier().setModel("lenet5").setEpochs(epochs).setSeed(42)
                    .setValidationFraction(2 * HELD_OUT).setStore(store);

            System.out.printf("(a) training: lenet5, %d epochs, seed 42, batch 64, %s; %d images (%.0f%% held out); "
                    + "%d warm-up round(s), %d measured%n", epochs, master, files.count(), 200 * HELD_OUT, warmUp, measured);
            System.out.printf("| %-44s | %6s | %10s | %10s | %8s |%n", "run", "round", "wall s", "training s", "other s");
            List<double[]> cli = new ArrayList<>();
            List<double[]> fitImage = new ArrayList<>();
            List<double[]> fitBinary = new ArrayList<>();
            for (int k = 1; k <= warmUp + measured; k++) {
                int round = k;
                String r = round <= warmUp ? "warm-up" : Integer.toString(round - warmUp);
                Path dir = work.resolve("round-" + round);
                boolean last = round == warmUp + measured;
                double[] c = timed(spark, last, "preprocess + train (CLI)", r, store, "cli-" + round, () -> {
                    cli("preprocess", "--source", folder.toString(), "--format", "folder", "--out", dir.resolve("shards").toString(),
                            "--validation-fraction", "" + HELD_OUT, "--test-fraction", "" + HELD_OUT);
                    cli("train", "--shards", dir.resolve("shards").toString(), "--store", store, "--name", "cli-" + round,
                            "--version", "v1", "--model", "lenet5", "--epochs", "" + epochs, "--seed", "42");
                });
                double[] i = timed(spark, last, "fit, image source", r, store, "fit-image-" + round, () -> cnn.copy(ParamMap.empty())
                        .setFeaturesCol("image").setWorkDir(dir.resolve("work-image").toString()).setModelName("fit-image-" + round)
                        .fit(images));
                double[] b = timed(spark, last, "fit, binaryFile", r, store, "fit-binary-" + round, () -> cnn.copy(ParamMap.empty())
                        .setFeaturesCol("content").setWorkDir(dir.resolve("work-binary").toString()).setModelName("fit-binary-" + round)
                        .fit(files));
                if (round > warmUp) {
                    cli.add(c);
                    fitImage.add(i);
                    fitBinary.add(b);
                }
            }
            for (String[] source : new String[][]{{"image source", "i"}, {"binaryFile", "b"}}) {
                List<double[]> fit = source[1].equals("i") ? fitImage : fitBinary;
                System.out.printf("fit (%s) / (preprocess + train), wall (medians): %s; training alone %.2fx, the rest %.2fx%n",
                        source[0], atMost(median(fit, 0) / median(cli, 0), 1.1), median(fit, 1) / median(cli, 1),
                        median(fit, 2) / median(cli, 2));
            }

            System.out.println("(b) scoring the same images with the binaryFile fit's model (batch 64, top 5, Parquet out)");
            String model = "fit-binary-" + (warmUp + measured) + ":v1";
            Runs score = StageCpu.runs(spark, "score", pass -> ScoreJob.run(spark, new ScoreJob.Request(model, store, folder.toString(),
                    null, work.resolve("scores-" + pass.replace(' ', '-')).toString(), 5, 64, false, false)).images());
            CnnClassificationModel transformer = CnnClassificationModel.fromStore(model, store).setFeaturesCol("content")
                    .setHandleInvalid("keep").setTopK(5).setBatchSize(64);
            // as read, and with only the columns score reads (the transform carries every input column through)
            Runs transform = transform(spark, "CnnClassificationModel.transform (binaryFile)", transformer, files.drop("label"), work);
            Runs narrow = transform(spark, "the same on path, content only", transformer, files.select("path", "content"), work);
            System.out.printf("transform / score, images/s: %s; on path and content only: %s%n",
                    Runs.ratio(transform.median() / score.median(), 0.9), Runs.ratio(narrow.median() / score.median(), 0.9));

            stream(folder, work, store, model, waves);
        } finally {
            try (var paths = Files.walk(work)) {
                paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
            spark.stop();
        }
        // Spark's barrier-stage timer (the trainer's rounds) is not a daemon thread: it would keep this JVM alive
        System.exit(0);
    }

    /** {@link Runs} of the model's transform of {@code files} into Parquet (without the image bytes), as score writes its table. */
    static Runs transform(SparkSession spark, String name, CnnClassificationModel model, Dataset<Row> files, Path work) throws Exception {
        return StageCpu.runs(spark, name, pass -> {
            String out = work.resolve(name.replaceAll("[^a-z]+", "-") + pass.replace(' ', '-')).toString();
            model.transform(files).drop("content").write().parquet(out);
            return spark.read().parquet(out).count();
        });
    }

    /** The class index of an image from its class directory (MakeImages' layout), as a double label. */
    static Column labelOf(Column uri, List<String> classes) {
        Column names = array(classes.stream().map(functions::lit).toArray(Column[]::new));
        return array_position(names, regexp_extract(url_decode(uri), "([^/]+)/[^/]+$", 1)).minus(1).cast("double");
    }

    /**
     * Runs {@code job}, prints its row (and, in the {@code last} round, its stages' task CPU); returns {wall, training,
     * the rest} in seconds, training from the version's metadata.
     */
    static double[] timed(SparkSession spark, boolean last, String name, String round, String store, String version, Job job)
            throws Exception {
        StageCpu stages = StageCpu.register(spark);
        long t0 = System.nanoTime();
        job.run();
        double wall = (System.nanoTime() - t0) / 1e9;
        spark.sparkContext().removeSparkListener(stages);
        Map<?, ?> training = (Map<?, ?>) new ModelStore(store, new Configuration()).get(version, "v1").metadata().get("training");
        double train = ((Number) training.get("seconds")).doubleValue();
        System.out.printf("| %-44s | %6s | %10.1f | %10.1f | %8.1f |%n", name, round, wall, train, wall - train);
        if (last) {
            // where the time outside training goes: the task CPU of each stage (the trainer's rounds included)
            System.out.print(stages.report("    "));
        }
        return new double[]{wall, train, wall - train};
    }

    interface Job {
        void run() throws Exception;
    }

    /** A sparkconv command in this JVM (its output kept unless it fails). */
    static void cli(String... args) {
        PrintStream out = System.out;
        ByteArrayOutputStream kept = new ByteArrayOutputStream();
        System.setOut(new PrintStream(kept, true));
        int code;
        try {
            code = Main.run(args);
        } finally {
            System.setOut(out);
        }
        if (code != 0) {
            throw new IllegalStateException("sparkconv " + String.join(" ", args) + " failed (" + code + "): " + kept);
        }
    }

    static double median(List<double[]> runs, int k) {
        return quantile(runs.stream().mapToDouble(r -> r[k]).sorted().toArray(), 0.5);
    }

    /** "X.XXx (goal <= G: met|NOT met)". */
    static String atMost(double x, double goal) {
        return String.format("%.2fx (goal <= %sx: %s)", x, goal, x <= goal ? "met" : "NOT met");
    }

    /**
     * (c) score --watch on {@code waves} waves of the folder's images landing a few seconds apart (each file written under
     * a hidden name and renamed, as docs/spark-ml.md says to land them), a micro-batch at most every second; stops the
     * query once every file is scored.
     */
    static void stream(Path folder, Path work, String store, String model, int waves) throws Exception {
        List<Path> pngs;
        try (var walk = Files.walk(folder)) {
            pngs = walk.filter(Files::isRegularFile).sorted().toList();
        }
        Path landing = Files.createDirectories(work.resolve("landing"));
        String out = work.resolve("watch").toString();
        // The command itself, in a JVM of its own with this one's flags, stopped by SIGTERM as a user stops it (the query
        // runs in a session of its own, which this JVM could not stop).
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName(), "score", "--watch", "--model", model,
                "--store", store, "--input", landing.toString(), "--out", out, "--trigger-interval", "1s", "--master", "local[2]"));
        Process watch = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        List<String> lines = new CopyOnWriteArrayList<>();
        Thread reader = new Thread(() -> {
            try {
                new java.io.BufferedReader(new java.io.InputStreamReader(watch.getInputStream(), java.nio.charset.StandardCharsets.UTF_8))
                        .lines().forEach(lines::add);
            } catch (java.io.UncheckedIOException stopped) {
                // the stream closes when the stopped process is reaped: its lines so far are what counts
            }
        }, "watch-output");
        reader.start();
        while (lines.stream().noneMatch(l -> l.startsWith("watching ")) && watch.isAlive()) {
            Thread.sleep(200);
        }
        int perWave = (pngs.size() + waves - 1) / waves;
        System.out.printf("(c) score --watch: %,d files in %d waves of %,d, one every 5 s; trigger interval 1s%n", pngs.size(), waves, perWave);
        for (int w = 0; w < waves; w++) {
            if (w > 0) {
                Thread.sleep(5000);
            }
            for (int i = w * perWave; i < Math.min(pngs.size(), (w + 1) * perWave); i++) {
                Path hidden = landing.resolve(".w" + w + "-" + i + ".png");
                Files.copy(pngs.get(i), hidden);
                Files.move(hidden, landing.resolve("w" + w + "-" + i + ".png"), StandardCopyOption.ATOMIC_MOVE);
            }
        }
        long deadline = System.nanoTime() + 300_000_000_000L;
        while (batches(lines).stream().mapToLong(b -> (long) b[1]).sum() < pngs.size() && watch.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(200);
        }
        watch.destroy();
        watch.waitFor();
        reader.join();
        List<double[]> batches = batches(lines);
        long images = batches.stream().mapToLong(b -> (long) b[1]).sum();
        double[] seconds = batches.stream().mapToDouble(b -> b[2]).sorted().toArray();
        double[] rates = batches.stream().mapToDouble(b -> b[1] / b[2]).sorted().toArray();
        System.out.printf("| %-12s | %8s | %12s | %12s | %12s | %14s |%n", "micro-batches", "images", "median s", "p90 s",
                "images/s", "median images/s");
        System.out.printf("| %-12d | %8d | %12.2f | %12.2f | %12.0f | %14.0f |%n", batches.size(), images, quantile(seconds, 0.5),
                quantile(seconds, 0.9), images / Arrays.stream(seconds).sum(), quantile(rates, 0.5));
        lines.stream().filter(l -> l.startsWith("batch ")).forEach(l -> System.out.println("    " + l));
        if (images != pngs.size()) {
            System.out.printf("MISMATCH: the watch scored %d of %d files; its output:%n%s%n", images, pngs.size(), String.join("\n", lines));
        }
    }

    /** {batch id, images, seconds} of each micro-batch line WatchJob reported. */
    static List<double[]> batches(List<String> lines) {
        List<double[]> out = new ArrayList<>();
        for (String l : lines) {
            Matcher m = BATCH.matcher(l);
            if (m.matches()) {
                out.add(new double[]{Long.parseLong(m.group(1)), Long.parseLong(m.group(2).replace(",", "")), Double.parseDouble(m.group(3))});
            }
        }
        return out;
    }

    /** The nearest-rank quantile of sorted values. */
    static double quantile(double[] sorted, double q) {
        return sorted.length == 0 ? Double.NaN : sorted[Math.max(0, (int) Math.ceil(q * sorted.length) - 1)];
    }
}
