package sparkconv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

import sparkconv.spark.SparkSessions;

/**
 * Walks every command and option of the CLI: {@code --help} exits 0 and shows each option's effective default; the
 * defaults in conf/defaults.properties name options of their own command only; the defaults the docs print in
 * {@code [--option value]} are the effective ones; a required option left out is a usage error; and every job's
 * defaults pass its own validation (its typed parameters build from the required options alone).
 */
class CommandDefaultsTest {
    /** Every command of the tree by its path ("nifty render"), the root and picocli's help command left out. */
    static Map<String, CommandLine> commands() {
        Map<String, CommandLine> out = new LinkedHashMap<>();
        walk(Main.commandLine(), "", out);
        return out;
    }

    private static void walk(CommandLine cl, String path, Map<String, CommandLine> out) {
        cl.getSubcommands().forEach((name, sub) -> {
            if (sub.getCommandSpec().userObject() instanceof CommandLine.HelpCommand) {
                return;
            }
            String p = (path.isEmpty() ? "" : path + " ") + name;
            out.put(p, sub);
            walk(sub, p, out);
        });
    }

    static String effectiveDefault(CommandLine cl, OptionSpec o) {
        String provided = cl.getDefaultValueProvider() == null ? null : providerValue(cl, o);
        return provided != null ? provided : o.defaultValue();
    }

    private static String providerValue(CommandLine cl, OptionSpec o) {
        try {
            return cl.getDefaultValueProvider().defaultValue(o);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void helpExitsZeroForEveryCommandAndShowsEveryEffectiveDefault() {
        for (var e : commands().entrySet()) {
            CommandHarness.Result r = CommandHarness.run((e.getKey() + " --help").split(" "));
            assertEquals(0, r.code(), e.getKey() + " --help: " + r.errors());
            assertTrue(r.out().contains("Usage: sparkconv " + e.getKey()), e.getKey() + ": " + r.out());
            String help = r.out().replaceAll("\\s+", "");
            for (OptionSpec o : e.getValue().getCommandSpec().options()) {
                String d = effectiveDefault(e.getValue(), o);
                // a description that states its default in words ("default: 32x32 for CIFAR, else 28x28") is read as is
                if (d == null || o.usageHelp() || o.versionHelp() || isFlag(o)
                        || (!String.join(" ", o.description()).contains("(default " + d) && String.join(" ", o.description()).contains("default"))) {
                    continue;
                }
                String shown = d.replaceAll("\\s+", "");
                assertTrue(help.contains("default" + shown) || help.contains("Default:" + shown),
                        "sparkconv " + e.getKey() + " --help shows the effective default of " + o.longestName() + " (" + d + "): " + r.out());
            }
        }
    }

    private static boolean isFlag(OptionSpec o) {
        return o.type() == boolean.class || o.type() == Boolean.class;
    }

    @Test
    void everyConfDefaultNamesAnOptionOfItsOwnCommand() {
        Properties conf = SparkSessions.defaultsFile();
        Map<String, CommandLine> commands = commands();
        List<String> checked = new ArrayList<>();
        for (String key : conf.stringPropertyNames()) {
            if (key.startsWith("spark.")) {
                continue;
            }
            int dot = key.lastIndexOf('.');
            assertTrue(dot > 0, "conf/defaults.properties: '" + key + "' is neither spark.* nor <command>.<option>");
            CommandLine cl = commands.get(key.substring(0, dot).replace('.', ' '));
            assertNotNull(cl, "conf/defaults.properties: '" + key + "' names no command");
            assertNotNull(cl.getCommandSpec().findOption("--" + key.substring(dot + 1)),
                    "conf/defaults.properties: '" + key + "' names no option of that command");
            checked.add(key);
        }
        assertTrue(checked.contains("train.lr") && checked.contains("preprocess.validation"), "checked " + checked);
    }

    @Test
    void aDefaultNeverLeaksIntoAnotherCommandsOptionOfTheSameName() {
        Map<String, CommandLine> c = commands();
        assertEquals("0.15", effectiveDefault(c.get("nifty render"), c.get("nifty render").getCommandSpec().findOption("--validation")));
        assertEquals("64", effectiveDefault(c.get("nifty render"), c.get("nifty render").getCommandSpec().findOption("--batch")));
        assertEquals("1000", effectiveDefault(c.get("segment-preprocess"), c.get("segment-preprocess").getCommandSpec().findOption("--validation")));
        assertEquals("32", effectiveDefault(c.get("segment-preprocess"), c.get("segment-preprocess").getCommandSpec().findOption("--batch")));
        assertEquals("5000", effectiveDefault(c.get("preprocess"), c.get("preprocess").getCommandSpec().findOption("--validation")));
        assertEquals("5000", effectiveDefault(c.get("quickstart"), c.get("quickstart").getCommandSpec().findOption("--validation")),
                "quickstart runs preprocess: it shares preprocess.*");
        assertEquals("0.05", effectiveDefault(c.get("quickstart"), c.get("quickstart").getCommandSpec().findOption("--lr")));
        assertEquals("0.003", effectiveDefault(c.get("segment-train"), c.get("segment-train").getCommandSpec().findOption("--lr")));
        assertEquals("10", effectiveDefault(c.get("segment-train"), c.get("segment-train").getCommandSpec().findOption("--epochs")));
        for (String cmd : List.of("score", "nifty evaluate")) {
            OptionSpec model = c.get(cmd).getCommandSpec().findOption("--model");
            assertTrue(model.required(), cmd + " --model is required");
            assertEquals(null, effectiveDefault(c.get(cmd), model), cmd + " --model has no default");
        }
    }

    @Test
    void aSharedMixinsOptionsTakeTheDefaultsOfTheCommandThatUsesThem() {
        Properties conf = new Properties();
        conf.setProperty("nifty.render.style", "candle");
        conf.setProperty("nifty.walk-forward.style", "returns");
        CommandLine cli = new CommandLine(new Main()).setDefaultValueProvider(new ConfDefaults(conf));
        String[] windows = {"--in", "x", "--window", "20", "--horizon", "5", "--out", "y"};
        NiftyRenderCommand render = parsed(cli, "nifty", "render", windows);
        assertEquals("candle", render.chart.style);
        NiftyWalkForwardCommand walkForward = parsed(new CommandLine(new Main()).setDefaultValueProvider(new ConfDefaults(conf)),
                "nifty", "walk-forward", windows);
        assertEquals("returns", walkForward.chart.style);
    }

    private static <T> T parsed(CommandLine cli, String group, String command, String... args) {
        List<String> argv = new ArrayList<>(List.of(group, command));
        argv.addAll(List.of(args));
        CommandLine.ParseResult r = cli.parseArgs(argv.toArray(String[]::new));
        while (r.hasSubcommand()) {
            r = r.subcommand();
        }
        @SuppressWarnings("unchecked")
        T job = (T) r.commandSpec().userObject();
        return job;
    }

    @Test
    void aRequiredOptionLeftOutIsAUsageError() {
        int checked = 0;
        for (var e : commands().entrySet()) {
            // options of an exclusive group (describe --model | --layer) are required as a group, not one by one
            List<OptionSpec> required = e.getValue().getCommandSpec().options().stream()
                    .filter(o -> o.required() && o.group() == null).toList();
            for (OptionSpec missing : required) {
                List<String> argv = requiredArgs(e.getKey(), e.getValue(), missing);
                try {
                    Main.commandLine().parseArgs(argv.toArray(String[]::new));
                    fail(String.join(" ", argv) + ": parsed without the required " + missing.longestName());
                } catch (CommandLine.MissingParameterException expected) {
                    assertTrue(expected.getMessage().contains(missing.longestName()), expected.getMessage());
                    checked++;
                }
            }
        }
        assertTrue(checked > 20, "required options checked: " + checked);
    }

    /** The command's path, its required options (but {@code leftOut}) with sample values and its positional parameters. */
    static List<String> requiredArgs(String path, CommandLine cl, OptionSpec leftOut) {
        List<String> argv = new ArrayList<>(List.of(path.split(" ")));
        for (OptionSpec o : cl.getCommandSpec().options()) {
            if (o.required() && o.group() == null && o != leftOut) {
                argv.add(o.longestName());
                argv.add(REQUIRED_SAMPLES.getOrDefault(path + " " + o.longestName(), sampleValue(o)));
            }
        }
        cl.getCommandSpec().positionalParameters().forEach(p -> argv.add("x"));
        return argv;
    }

    /** A value of the option's type that its parser accepts (only parsing is checked). */
    static String sampleValue(OptionSpec o) {
        Class<?> t = o.type();
        if (t == int.class || t == Integer.class || t == long.class || t == Long.class) {
            return "5";
        }
        if (t == double.class || t == Double.class) {
            return "0.5";
        }
        return "x";
    }

    /** Inline {@code `sparkconv CMD ...`} spans of the docs' prose. */
    private static final Pattern INLINE = Pattern.compile("`(sparkconv [^`]+)`");
    /** An optional part {@code [...]} and an {@code --option value} pair in it (a value followed by | is a choice list). */
    private static final Pattern BRACKET = Pattern.compile("\\[([^\\[\\]]*)\\]");
    private static final Pattern PAIR = Pattern.compile("(--[a-z0-9-]+) ([^\\s|\\[\\]-][^\\s|\\[\\]]*)(?=[\\s\\]]|$)");

    @Test
    void theDefaultsTheDocsPrintInBracketsAreTheEffectiveOnes() throws IOException {
        Map<String, CommandLine> commands = commands();
        int checked = 0;
        for (Path doc : DocCommands.documents()) {
            List<String> usages = new ArrayList<>();
            DocCommands.commands(doc).stream().filter(l -> l.text().startsWith("./sparkconv ")).forEach(l -> usages.add(l.text().substring(2)));
            Matcher inline = INLINE.matcher(Files.readString(doc));
            while (inline.find()) {
                usages.add(inline.group(1));
            }
            for (String usage : usages) {
                String path = commandPath(commands, usage);
                if (path == null) {
                    continue;
                }
                Matcher b = BRACKET.matcher(usage);
                while (b.find()) {
                    Matcher p = PAIR.matcher(b.group(1));
                    while (p.find()) {
                        String value = p.group(2);
                        if (value.matches("[A-Z_]+|\\.\\.\\.")) {
                            continue; // a placeholder (N, URI, ...), not a value
                        }
                        CommandLine cl = commands.get(path);
                        OptionSpec o = cl.getCommandSpec().findOption(p.group(1));
                        assertNotNull(o, doc.getFileName() + ": sparkconv " + path + " has no option " + p.group(1));
                        String d = effectiveDefault(cl, o);
                        if (d != null) { // without a default the value is an example ([--out m.json])
                            assertEquals(value, d, doc.getFileName() + ": '" + p.group() + "' in '" + usage + "'");
                            checked++;
                        }
                    }
                }
            }
        }
        assertTrue(checked >= 15, "documented defaults checked: " + checked);
    }

    /** The longest command path a usage line starts with ("nifty render" for "sparkconv nifty render --in ..."). */
    static String commandPath(Map<String, CommandLine> commands, String usage) {
        String[] words = usage.trim().split("\\s+");
        String found = null;
        String path = "";
        for (int i = 1; i < words.length; i++) {
            path = (path.isEmpty() ? "" : path + " ") + words[i];
            if (commands.containsKey(path)) {
                found = path;
            } else {
                break;
            }
        }
        return found;
    }

    @Test
    void everyJobsDefaultsPassItsOwnValidation() {
        List<String> checked = new ArrayList<>();
        for (var e : commands().entrySet()) {
            if (!e.getValue().getSubcommands().isEmpty() || e.getValue().getCommandSpec().userObject() instanceof DescribeCommand) {
                continue; // command groups run nothing; describe's options are an exclusive group
            }
            List<String> argv = requiredArgs(e.getKey(), e.getValue(), null);
            CommandLine cl = Main.commandLine();
            CommandLine.ParseResult parsed = cl.parseArgs(argv.toArray(String[]::new));
            while (parsed.hasSubcommand()) {
                parsed = parsed.subcommand();
            }
            if (parsed.commandSpec().userObject() instanceof JobCommand<?> job) {
                assertNotNull(job.params(), e.getKey());
                checked.add(e.getKey());
            }
        }
        // every command that runs a library job maps its flags onto the job's typed parameters: each Spark job, and report;
        // pipeline run runs other commands (each stage is one of these)
        List<String> jobs = new ArrayList<>(commands().entrySet().stream()
                .filter(e -> e.getValue().getCommandSpec().findOption("--master") != null && !e.getKey().equals("pipeline run"))
                .map(Map.Entry::getKey).toList());
        jobs.add("report");
        assertTrue(checked.containsAll(jobs), "commands without typed job parameters: "
                + jobs.stream().filter(j -> !checked.contains(j)).toList());
        assertTrue(checked.size() >= 12, "jobs whose defaults were validated: " + checked);
    }

    /** Required values whose type sample would not be a valid job (a render needs a window the charts can draw). */
    private static final Map<String, String> REQUIRED_SAMPLES = Map.of("nifty render --window", "20");
}
