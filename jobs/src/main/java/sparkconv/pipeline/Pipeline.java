package sparkconv.pipeline;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.spark.SparkConf;

import sparkconv.SparkconvException;
import sparkconv.spark.Fs;
import sparkconv.spark.Redaction;
import sparkconv.spark.SparkSessions;
import sparkconv.spark.StagedCommit;

/**
 * Runs a {@link PipelineSpec}'s stages in order. Everything is checked before the first stage runs (each stage's
 * command line parses, each input exists or an earlier stage writes it). A stage is skipped when all its outputs
 * are complete ({@code _SUCCESS} in a directory, or the file exists) and its record in the spec's state directory
 * shows the same arguments and inputs (sizes and modification times of every input file); so re-running after a
 * failure resumes at the failed stage, and changed inputs re-run what depends on them.
 */
public final class Pipeline {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** The commands stages run; implemented by the CLI (the pipeline knows nothing of it). */
    public interface Commands {
        /** Null when {@code argv} is a valid command line (command, options, value types, required options), else why not. */
        String check(List<String> argv);

        /** Whether the command takes {@code --master} and {@code --conf} (is a Spark job). */
        boolean isSparkJob(List<String> command);

        /** Runs a command line; returns its exit code. */
        int run(List<String> argv);
    }

    public enum Outcome { RAN, SKIPPED, WOULD_RUN, WOULD_SKIP }

    public record StageOutcome(String stage, Outcome outcome, List<String> argv) {
    }

    private final PipelineSpec spec;
    private final Commands commands;
    private final Configuration conf;
    private final Consumer<String> log;

    public Pipeline(PipelineSpec spec, Commands commands, Configuration conf, Consumer<String> log) {
        this.spec = spec;
        this.commands = commands;
        this.conf = conf;
        this.log = log;
    }

    /**
     * Runs the stages (from {@code from} on, when given: that stage runs even if complete); {@code sparkOverrides}
     * are the CLI's Spark settings, over the spec's. With {@code dryRun} only prints the plan.
     */
    public List<StageOutcome> run(String from, Map<String, String> sparkOverrides, boolean dryRun) {
        List<PipelineSpec.Stage> stages = spec.stages();
        int first = 0;
        if (from != null) {
            first = stages.stream().map(PipelineSpec.Stage::name).toList().indexOf(from);
            if (first < 0) {
                throw new SparkconvException(spec.file() + ": --from " + from + ": no such stage (stages: "
                        + stages.stream().map(PipelineSpec.Stage::name).toList() + ")");
            }
        }
        Map<String, String> spark = new LinkedHashMap<>(spec.spark());
        spark.putAll(sparkOverrides);

        List<List<String>> commandLines = new ArrayList<>();
        List<String> written = new ArrayList<>();
        for (int i = 0; i < stages.size(); i++) {
            PipelineSpec.Stage s = stages.get(i);
            List<String> argv = commandLine(s, spark);
            String problem = commands.check(argv);
            if (problem != null) {
                throw stageError(s, problem);
            }
            commandLines.add(argv);
            if (i >= first) {
                for (String input : s.inputs()) {
                    if (written.stream().noneMatch(out -> within(input, out)) && !Fs.exists(Fs.path(input), conf)) {
                        throw stageError(s, "input " + input + " does not exist and no earlier stage writes it");
                    }
                }
                written.addAll(s.outputs());
            }
        }

        // the plan and progress lines show a secret --conf redacted, as Spark's UI would; the stages get the values
        SparkConf shownBy = SparkSessions.conf(spark);
        List<StageOutcome> outcomes = new ArrayList<>();
        for (int i = first; i < stages.size(); i++) {
            PipelineSpec.Stage s = stages.get(i);
            String label = "[" + (i + 1) + "/" + stages.size() + "] " + s.name();
            boolean forced = from != null && i == first;
            boolean complete = !forced && upToDate(s);
            if (dryRun) {
                log.accept(label + ": " + (complete ? "would skip (complete, same inputs)"
                        : "would run: " + String.join(" ", Redaction.commandLine(commandLines.get(i), shownBy))));
                outcomes.add(new StageOutcome(s.name(), complete ? Outcome.WOULD_SKIP : Outcome.WOULD_RUN, commandLines.get(i)));
                continue;
            }
            if (complete) {
                log.accept(label + ": skipped (outputs complete, same arguments and inputs)");
                outcomes.add(new StageOutcome(s.name(), Outcome.SKIPPED, commandLines.get(i)));
                continue;
            }
            log.accept(label + ": running " + String.join(" ", Redaction.commandLine(commandLines.get(i), shownBy)));
            long start = System.nanoTime();
            int code = commands.run(commandLines.get(i));
            if (code != 0) {
                throw new SparkconvException(spec.file() + ":" + s.line() + ": stage " + s.name() + " failed (exit " + code
                        + "); fix it and run the pipeline again: complete stages are skipped");
            }
            for (String out : s.outputs()) {
                if (!complete(out)) {
                    throw stageError(s, "finished but output " + out + " is not complete (no " + StagedCommit.SUCCESS + ")");
                }
            }
            Fs.writeString(recordPath(s), json(record(s)), conf);
            log.accept(String.format("%s: done in %.1f s", label, (System.nanoTime() - start) / 1e9));
            outcomes.add(new StageOutcome(s.name(), Outcome.RAN, commandLines.get(i)));
        }
        return outcomes;
    }

    private List<String> commandLine(PipelineSpec.Stage s, Map<String, String> spark) {
        List<String> argv = s.argv();
        if (commands.isSparkJob(s.command())) {
            spark.forEach((k, v) -> {
                if (k.equals("spark.master")) {
                    argv.addAll(List.of("--master", v));
                } else {
                    argv.addAll(List.of("--conf", k + "=" + v));
                }
            });
        }
        return argv;
    }

    private SparkconvException stageError(PipelineSpec.Stage s, String problem) {
        return new SparkconvException(spec.file() + ":" + s.line() + ": stage " + s.name() + ": " + problem);
    }

    private boolean upToDate(PipelineSpec.Stage s) {
        if (s.outputs().isEmpty() || !s.outputs().stream().allMatch(this::complete)) {
            return false;
        }
        Path record = recordPath(s);
        return Fs.exists(record, conf) && Fs.readString(record, conf).equals(json(record(s)));
    }

    /** A directory is complete with {@code _SUCCESS} in it; a file when it exists. */
    private boolean complete(String output) {
        Path p = Fs.path(output);
        try {
            FileStatus st = Fs.fs(p, conf).getFileStatus(p);
            return !st.isDirectory() || StagedCommit.isComplete(p, conf);
        } catch (FileNotFoundException e) {
            return false;
        } catch (IOException e) {
            throw new SparkconvException(output + ": cannot check output: " + e.getMessage(), e);
        }
    }

    private Path recordPath(PipelineSpec.Stage s) {
        return Fs.child(spec.state(), spec.name() + "." + s.name() + ".json");
    }

    /** What a stage's completion depends on: its command line (without Spark settings) and its inputs' contents. */
    private Map<String, Object> record(PipelineSpec.Stage s) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("stage", s.name());
        r.put("argv", s.argv());
        Map<String, String> inputs = new TreeMap<>();
        s.inputs().forEach(in -> inputs.put(Fs.uri(in), fingerprint(in)));
        r.put("inputs", inputs);
        return r;
    }

    /** SHA-256 over (relative path, length, modification time) of every file under an input. */
    String fingerprint(String input) {
        Path root = Fs.path(input);
        try {
            FileSystem fs = Fs.fs(root, conf);
            if (!fs.exists(root)) {
                return "missing";
            }
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            List<String> lines = new ArrayList<>();
            String prefix = fs.getFileStatus(root).getPath().toString();
            RemoteIterator<LocatedFileStatus> files = fs.listFiles(root, true);
            while (files.hasNext()) {
                LocatedFileStatus f = files.next();
                lines.add(f.getPath().toString().substring(prefix.length()) + " " + f.getLen() + " " + f.getModificationTime());
            }
            lines.sort(null);
            lines.forEach(l -> sha.update((l + "\n").getBytes(StandardCharsets.UTF_8)));
            return HexFormat.of().formatHex(sha.digest());
        } catch (IOException e) {
            throw new SparkconvException(input + ": cannot read input: " + e.getMessage(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static boolean within(String path, String dir) {
        String p = Fs.uri(path);
        String d = Fs.uri(dir);
        return p.equals(d) || p.startsWith(d.endsWith("/") ? d : d + "/");
    }

    private static String json(Object o) {
        try {
            return JSON.writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
