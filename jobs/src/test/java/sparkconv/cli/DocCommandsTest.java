package sparkconv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import picocli.CommandLine;

import sparkconv.LocalSpark;
import sparkconv.TestData;

/**
 * The docs run as tests: every command line README.md, docs/*.md and pipelines/*.yaml print ({@link DocCommands}) is
 * executed, in the order printed, one working directory per document (jobs/target/doc-commands/), at a small size:
 * <ul>
 * <li>{@code ./sparkconv} lines run in this JVM ({@link Main#run}, on the shared local Spark session). Relative paths
 * go under the document's working directory ({@code ../} ones against the repository root, as the docs mean them).
 * The data shrink the documented ways: {@code --limit 1000 --validation 100} for IDX preprocess and the quickstart,
 * {@code --epochs 1} for training and walk-forward folds, {@code --set limit=1000 --set validation=100 --set epochs=1} for pipeline specs
 * that have those parameters, the last {@value #NIFTY_DAYS} days of the NIFTY-50 CSV for the chart walkthroughs. What
 * a document shows such a line printing ({@link DocCommands.Line#prints}) it must print ({@link Walk#assertPrints}). A usage line ({@code [optional]} parts, placeholders such as {@code URI}) runs its
 * required part when that has no placeholder; otherwise its options are checked against the command.</li>
 * <li>Lines that need a cluster or HDFS ({@code spark://}, {@code hdfs://}, {@code yarn}, {@code k8s://}), or input the
 * docs do not create ({@link #NOT_CREATED}), are parsed with the CLI's own parser only; input that arrives from
 * elsewhere ({@code score --watch}'s landing folder, {@link #PREPARED}) is made by the test.</li>
 * <li>{@code deploy/submit} lines print their spark-submit command ({@code --dry-run}), which needs no cluster;
 * {@code deploy/cluster up|status|down} start, query and stop a real cluster (ClusterEndToEndIT runs them): here their
 * subcommand and options are checked against {@code deploy/cluster --help}. {@code bench/run} lines: the benchmark
 * names are checked against {@code bench/run --help} (BenchQuickTest runs every benchmark at a tiny size).
 * {@code ./test} is this very suite (checked to exist); {@code ./setup} runs with {@code --dry-run} (it would install
 * Debian packages).</li>
 * </ul>
 * Without Fashion-MNIST or the NIFTY-50 CSV, the lines that read them (and the rest of their document) are skipped
 * with that reason. A command line printed again (a spec's header repeats the README's) runs once.
 */
class DocCommandsTest {
    static final Path ROOT = DocCommands.ROOT;
    static final Path WORK = Path.of("target", "doc-commands").toAbsolutePath();

    /** Options whose value is a path or URI: relocated under the document's working directory when relative. */
    static final Set<String> PATH_OPTIONS = Set.of("--out", "--in", "--shards", "--store", "--csv", "--data", "--source", "--input");

    /** Trading days of the NIFTY-50 CSV the walkthroughs run on (of 4,954): ~550 20-day windows instead of ~4,900. */
    static final int NIFTY_DAYS = 600;

    /** Commands whose input the docs do not create: parsed only, with why. */
    static final Map<String, String> NOT_CREATED = Map.of(
            "archive.zip", "scores an archive of the user's own images",
            "pipelines/score-archive.yaml", "scores a day's archive partition (date=...) that the docs do not create",
            "prices/AAA.csv", "ingests the user's own price files",
            "mine/ingested", "walks forward over the user's own ingested prices");

    /**
     * Inputs that no documented command makes, which the test makes when a command names them: files arriving in a
     * landing folder ({@code score --watch}): 20 PNGs and one broken file.
     */
    static final Map<String, String> PREPARED = Map.of("landing", "files landing in a folder, which arrive from elsewhere");

    /** Command lines run so far, with where they were printed first. */
    private static final Map<String, String> RAN = new java.util.concurrent.ConcurrentHashMap<>();

    private static final Pattern PLACEHOLDER = Pattern.compile("[A-Z][A-Z_]*(\\[.*)?|.*\\.\\.\\..*|.*\\|.*");

    @TestFactory
    Stream<DynamicContainer> everyDocumentedCommandWorks() throws IOException {
        if (Files.exists(WORK)) {
            try (Stream<Path> s = Files.walk(WORK)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        LocalSpark.get();
        // -Dsparkconv.docs=docs/nifty.md,README.md: only those documents (a developer re-running one walk-through)
        List<String> only = List.of(System.getProperty("sparkconv.docs", "").split(",")).stream().filter(d -> !d.isBlank()).toList();
        return DocCommands.documents().stream().filter(doc -> only.isEmpty() || only.contains(ROOT.relativize(doc).toString())).map(doc -> {
            Walk walk = new Walk(WORK.resolve(ROOT.relativize(doc).toString().replace('/', '_')));
            return DynamicContainer.dynamicContainer(ROOT.relativize(doc).toString(), DocCommands.commands(doc).stream()
                    .map(l -> DynamicTest.dynamicTest(l.line() + ": " + l.text(), () -> walk.check(l))));
        });
    }

    /** A shown line stands for other figures and places, never for other words. */
    @Test
    void aShownLineMatchesOtherFiguresAndPlacesOnly() {
        Pattern shown = Walk.shownLine("test accuracy 0.9045; model fashion-mnist-lenet5 v1 stored at file:/home/me/out/store/models/x/v1");
        assertTrue(shown.matcher("test accuracy 0.4217; model fashion-mnist-lenet5 v12 stored at file:/tmp/w/store/models/x/v12").matches());
        assertTrue(!shown.matcher("test accuracy 0.4217; model fashion-mnist-lenet5 v12 kept at file:/tmp/w").matches());
        assertTrue(Walk.shownLine("train   55,000 examples in   860 shards").matcher("train 900 examples in 15 shards").matches());
        assertTrue(!Walk.shownLine("train   55,000 examples in   860 shards").matcher("train many examples in 15 shards").matches());
        // the noun after a figure in either number, as the figure needs it; never another word
        Pattern caughtUp = Walk.shownLine("caught up: 3 batches, 10,001 images, 1 with errors; scores in file:///home/me/watched");
        assertTrue(caughtUp.matcher("caught up: 1 batch, 21 images, 1 with errors; scores in file:///tmp/w").matches());
        assertTrue(Walk.shownLine("batch 2: 1 image, 1 with errors").matcher("batch 0: 21 images, 0 with errors").matches());
        assertTrue(!caughtUp.matcher("caught up: 1 bunch, 21 images, 1 with errors; scores in file:///tmp/w").matches());
    }

    /** One document's walk-through: its working directory, and why the rest is skipped once a step lacked its data. */
    static final class Walk {
        final Path work;
        String skipped;

        Walk(Path work) {
            this.work = work;
        }

        void check(DocCommands.Line l) throws Exception {
            List<String> w = l.words();
            switch (w.get(0)) {
                case "./sparkconv" -> sparkconv(l, w.subList(1, w.size()));
                case "deploy/submit" -> submit(l, w.subList(1, w.size()));
                case "deploy/cluster" -> helpLists(l, "deploy/cluster", w.subList(1, w.size()));
                case "bench/run" -> helpLists(l, "bench/run", w.subList(1, w.size()));
                case "./test" -> assertTrue(Files.isExecutable(ROOT.resolve("test")), l.where() + ": ./test is missing");
                case "./setup" -> {
                    List<String> argv = new ArrayList<>(w);
                    argv.add(1, "--dry-run");
                    Script s = script(argv);
                    assertEquals(0, s.code(), l.where() + ": " + String.join(" ", argv) + "\n" + s.output());
                }
                default -> throw new AssertionError(l.where() + ": '" + l.text() + "' is a documented command of no known kind "
                        + "(./sparkconv, deploy/, bench/run, ./test, ./setup)");
            }
        }

        private void sparkconv(DocCommands.Line l, List<String> args) throws IOException {
            Map<String, CommandLine> commands = CommandDefaultsTest.commands();
            String path = CommandDefaultsTest.commandPath(commands, "sparkconv " + String.join(" ", args));
            assertNotNull(path, l.where() + ": no such command: " + l.text());
            List<String> argv = args;
            if (l.text().contains("[") || args.stream().anyMatch(a -> PLACEHOLDER.matcher(a).matches())) {
                CommandLine cl = commands.get(path);
                for (String a : args) {
                    if (a.matches("\\[?--[a-z0-9-]+.*")) {
                        String option = a.replaceFirst("^\\[", "").replaceFirst("[=\\]].*$", "");
                        assertNotNull(cl.getCommandSpec().findOption(option), l.where() + ": sparkconv " + path + " has no option " + option);
                    }
                }
                argv = List.of(String.join(" ", args).replaceAll("\\[[^\\[\\]]*\\]", " ").trim().split("\\s+"));
                if (argv.stream().anyMatch(a -> PLACEHOLDER.matcher(a).matches())) {
                    return; // a usage line whose required part is placeholders: its options were checked
                }
            }
            String reason = notRun(argv);
            if (reason != null) {
                Main.commandLine().parseArgs(argv.toArray(String[]::new));
                System.out.println(l.where() + ": parsed only (" + reason + ")");
                return;
            }
            Assumptions.assumeTrue(skipped == null, "SKIPPED: follows a step that was skipped (" + skipped + ")");
            String earlier = RAN.putIfAbsent(l.text(), l.where());
            if (earlier != null) {
                System.out.println(l.where() + ": ran as printed at " + earlier);
                return; // the same command line printed again (a spec's header repeats the README): run once
            }
            String missing = missingData(path, argv);
            if (missing != null) {
                skipped = missing;
                Assumptions.abort("SKIPPED: " + missing);
            }
            List<String> run = shrink(path, path.equals("describe") ? argv : relocate(argv)); // describe --input is a shape
            System.out.println(l.where() + ": ./sparkconv " + String.join(" ", run));
            CommandHarness.Result r = CommandHarness.run(run.toArray(String[]::new));
            assertEquals(0, r.code(), l.where() + ": " + l.text() + "\nran: " + String.join(" ", run) + "\n" + r.errors() + "\n" + r.out());
            assertPrints(l, r.out());
        }

        /**
         * Every line the document shows the command printing is a line it printed, up to figures and places: in a shown
         * line a number stands for any number (the test runs smaller than the docs), the noun after it for its singular or
         * plural, and a word with a '/' for any path or URI; a line "..." stands for lines left out.
         */
        static void assertPrints(DocCommands.Line l, String printed) {
            List<String> actual = printed.lines().map(String::strip).toList();
            for (String shown : l.prints()) {
                if (shown.isBlank() || shown.strip().equals("...")) {
                    continue;
                }
                Pattern p = shownLine(shown.strip());
                assertTrue(actual.stream().anyMatch(a -> p.matcher(a).matches()),
                        l.where() + ": the document shows '" + shown.strip() + "' for " + l.text() + "; it printed:\n" + printed);
            }
        }

        static Pattern shownLine(String shown) {
            List<String> words = new ArrayList<>();
            String previous = "";
            for (String word : shown.split("\\s+")) {
                boolean afterFigure = NUMBER.matcher(previous).matches();
                previous = word;
                if (word.contains("/")) {
                    words.add("\\S+");
                    continue;
                }
                Matcher noun = NOUN.matcher(word);
                if (afterFigure && noun.matches()) {
                    words.add(eitherNumber(noun.group(1)) + Pattern.quote(noun.group(2)));
                    continue;
                }
                StringBuilder re = new StringBuilder();
                Matcher m = NUMBER.matcher(word);
                int at = 0;
                while (m.find()) {
                    re.append(Pattern.quote(word.substring(at, m.start()))).append(NUMBER.pattern());
                    at = m.end();
                }
                words.add(re.append(Pattern.quote(word.substring(at))).toString());
            }
            return Pattern.compile(String.join("\\s+", words));
        }

        private static final Pattern NUMBER = Pattern.compile("\\d[\\d,]*(?:\\.\\d+)?");
        private static final Pattern NOUN = Pattern.compile("([a-z]+)([,;:.)]*)");

        /** A word after a figure agrees with it: "1 image" stands for "21 images", "3 batches" for "1 batch". */
        static String eitherNumber(String noun) {
            String one = noun.matches(".*(ch|sh|ss|x)es") ? noun.substring(0, noun.length() - 2)
                    : noun.matches(".*[^s]s") ? noun.substring(0, noun.length() - 1) : noun;
            String many = one.matches(".*(ch|sh|ss|x)") ? one + "es" : one + "s";
            return "(?:" + Pattern.quote(one) + "|" + Pattern.quote(many) + ")";
        }

        /** Why a line is parsed rather than run, or null to run it. */
        private static String notRun(List<String> argv) {
            for (String a : argv) {
                if (a.contains("hdfs://") || a.contains("spark://") || a.contains("k8s://") || a.equals("yarn")) {
                    return "needs the cluster and HDFS of deploy/cluster; ClusterEndToEndIT runs these commands there";
                }
                for (var e : NOT_CREATED.entrySet()) {
                    if (a.equals(e.getKey())) {
                        return e.getValue();
                    }
                }
            }
            return null;
        }

        private static String missingData(String path, List<String> argv) {
            String line = String.join(" ", argv);
            if (line.contains("NIFTY50.csv") || line.contains("nifty-candle-20.yaml") || (path.equals("nifty ingest") && !line.contains("--csv /"))) {
                if (!Files.isRegularFile(TestData.shared().resolve("data/nifty/NIFTY50.csv"))) {
                    return "the NIFTY-50 CSV is absent (../shared/data/nifty/NIFTY50.csv)";
                }
            }
            boolean idx = path.equals("quickstart") || (path.equals("preprocess") && !argv.contains("--source"))
                    || path.equals("segment-preprocess") || line.contains("fashion-mnist.yaml");
            if (idx && !Files.isRegularFile(Path.of("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"))) {
                return "Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)";
            }
            return null;
        }

        /** Relative paths as the docs mean them: under the working directory, "../" against the repository root. */
        List<String> relocate(List<String> args) throws IOException {
            List<String> out = new ArrayList<>(args);
            for (int i = 0; i < out.size(); i++) {
                String a = out.get(i);
                if (PATH_OPTIONS.contains(a) && i + 1 < out.size()) {
                    String given = out.get(i + 1);
                    out.set(i + 1, sampled(local(given)));
                    if (PREPARED.containsKey(given.replaceAll("/$", ""))) {
                        prepare(Path.of(out.get(i + 1)));
                    }
                } else if (a.equals("--set") && i + 1 < out.size() && out.get(i + 1).matches("(root|csv|data)=.*")) {
                    String[] kv = out.get(i + 1).split("=", 2);
                    out.set(i + 1, kv[0] + "=" + sampled(local(kv[1])));
                } else if (a.endsWith(".yaml") && !a.startsWith("/")) {
                    out.set(i, ROOT.resolve(a).toString());
                }
            }
            return out;
        }

        /** A {@link #PREPARED} landing folder, once: 20 28x28 grey PNGs and a truncated one. */
        static void prepare(Path landing) throws IOException {
            if (Files.exists(landing)) {
                return;
            }
            Files.createDirectories(landing);
            for (int i = 0; i < 20; i++) {
                sparkconv.data.TestImages.write(landing.resolve(String.format("%05d.png", i)), sparkconv.data.TestImages.grey(28, 28, i, "png"));
            }
            sparkconv.data.TestImages.write(landing.resolve("broken.png"),
                    sparkconv.data.TestImages.truncated(sparkconv.data.TestImages.grey(28, 28, 99, "png"), 50));
        }

        /**
         * The NIFTY-50 CSV shrunk the way docs/nifty.md says any daily CSV may be: its header and its last
         * {@link #NIFTY_DAYS} days (a contiguous stretch, so windows, labels and the embargo stay what they are).
         */
        String sampled(String path) throws IOException {
            if (!path.endsWith("NIFTY50.csv") || !Files.isRegularFile(Path.of(path))) {
                return path;
            }
            List<String> lines = Files.readAllLines(Path.of(path));
            List<String> sample = new ArrayList<>(List.of(lines.get(0)));
            sample.addAll(lines.subList(Math.max(1, lines.size() - NIFTY_DAYS), lines.size()));
            Path out = work.resolve("NIFTY50.csv");
            Files.createDirectories(work);
            Files.write(out, sample);
            return out.toString();
        }

        String local(String value) {
            if (value.startsWith("/") || value.contains("://")) {
                return value;
            }
            return (value.startsWith("../") ? ROOT.resolve(value) : work.resolve(value)).normalize().toString();
        }

        /** The documented ways to run small: --limit for IDX data, --epochs 1, the pipeline parameters of the same name. */
        List<String> shrink(String path, List<String> argv) throws IOException {
            List<String> out = new ArrayList<>(argv);
            switch (path) {
                case "quickstart" -> {
                    putIfAbsent(out, "--out", work.resolve("sparkconv-out").toString()); // its default is relative
                    putIfAbsent(out, "--limit", "1000");
                    put(out, "--epochs", "1");
                }
                case "preprocess" -> {
                    if (!out.contains("--source")) {
                        putIfAbsent(out, "--limit", "1000");
                        putIfAbsent(out, "--validation", "100");
                    }
                }
                case "train", "segment-train", "nifty walk-forward" -> put(out, "--epochs", "1");
                case "pipeline run" -> {
                    String spec = Files.readString(Path.of(out.get(2)), StandardCharsets.UTF_8);
                    Matcher root = Pattern.compile("(?m)^  root: (\\S+)$").matcher(spec);
                    if (root.find() && out.stream().noneMatch(a -> a.startsWith("root="))) {
                        out.addAll(List.of("--set", "root=" + local(root.group(1))));
                    }
                    for (String[] p : new String[][]{{"limit", "1000"}, {"validation", "100"}, {"epochs", "1"}}) {
                        if (Pattern.compile("(?m)^  " + p[0] + ": ").matcher(spec).find()) {
                            out.addAll(List.of("--set", p[0] + "=" + p[1]));
                        }
                    }
                }
                default -> {
                }
            }
            return out;
        }

        private static void put(List<String> argv, String option, String value) {
            int i = argv.indexOf(option);
            if (i >= 0) {
                argv.set(i + 1, value);
            } else {
                argv.addAll(List.of(option, value));
            }
        }

        private static void putIfAbsent(List<String> argv, String option, String value) {
            if (!argv.contains(option)) {
                argv.addAll(List.of(option, value));
            }
        }

        /**
         * deploy/submit: the dry run prints the spark-submit command (no cluster needed); the sparkconv part parses (a
         * {@code --class} program's arguments are its own).
         */
        private void submit(DocCommands.Line l, List<String> args) throws Exception {
            if (args.contains("...")) {
                helpLists(l, "deploy/submit", args);
                return;
            }
            Assumptions.assumeTrue(Files.isRegularFile(ROOT.resolve("deploy/spark-runtime/target/classpath.txt")),
                    "SKIPPED: deploy/spark-runtime/target/classpath.txt missing (run mvn from the repository root)");
            List<String> argv = new ArrayList<>(List.of("deploy/submit", "--dry-run"));
            argv.addAll(args);
            Script s = script(argv);
            assertEquals(0, s.code(), l.where() + ": " + String.join(" ", argv) + "\n" + s.output());
            int command = 0;
            while (command < args.size() && args.get(command).startsWith("--")) {
                command += args.get(command).equals("--dry-run") ? 1 : 2;
            }
            if (!args.contains("--class")) { // a program of one's own takes its own arguments
                Main.commandLine().parseArgs(args.subList(command, args.size()).toArray(String[]::new));
            }
        }

        /** A script's subcommand, benchmark names and options as its --help lists them (lines that need a real cluster). */
        private void helpLists(DocCommands.Line l, String script, List<String> args) throws Exception {
            Script help = script(List.of(script, "--help"));
            assertEquals(0, help.code(), script + " --help exits 0: " + help.output());
            List<String> listed = new ArrayList<>();
            for (int i = 0; i < args.size(); i++) {
                String a = args.get(i);
                if (a.startsWith("--")) {
                    listed.add(a.replaceFirst("=.*$", ""));
                    if (script.equals("deploy/submit") && !a.equals("--dry-run")) {
                        i++; // its value
                    }
                } else if (script.equals("deploy/submit")) {
                    break; // the sparkconv command starts here
                } else if (!a.equals("...") && (script.equals("bench/run") || i == 0)) {
                    listed.add(script.equals("bench/run") ? a : script + " " + a);
                }
            }
            for (String word : listed) {
                assertTrue(help.output().contains(word), l.where() + ": " + script + " --help does not list '" + word + "'");
            }
        }
    }

    record Script(int code, String output) {
    }

    /** A script run from the repository root, its output and exit code; killed after {@link #SCRIPT_SECONDS}. */
    static Script script(List<String> argv) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(argv);
        cmd.set(0, ROOT.resolve(cmd.get(0)).toString());
        Path log = Files.createTempFile("doc-command", ".log");
        try {
            // The output goes to a file, so the timeout holds even when the script never closes its output.
            Process p = new ProcessBuilder(cmd).directory(ROOT.toFile()).redirectErrorStream(true)
                    .redirectOutput(log.toFile()).start();
            boolean ended = p.waitFor(SCRIPT_SECONDS, TimeUnit.SECONDS);
            if (!ended) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly().waitFor();
            }
            String out = Files.readString(log, StandardCharsets.UTF_8);
            assertTrue(ended, String.join(" ", argv) + " did not finish in " + SCRIPT_SECONDS + " s:\n" + out);
            return new Script(p.exitValue(), out);
        } finally {
            Files.deleteIfExists(log);
        }
    }

    static final int SCRIPT_SECONDS = 120;
}
