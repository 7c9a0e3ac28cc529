package sparkconv.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import sparkconv.spark.SparkSessions;

/**
 * Option defaults from {@code conf/defaults.properties}, keyed per command: {@code <command>.<option>}, with a
 * subcommand's path joined by dots ({@code train.lr}, {@code preprocess.validation}, {@code nifty.render.validation}).
 * The lowest layer of the one config path: conf/ defaults < pipeline spec < CLI flag. An option without an entry keeps
 * its annotated default. A key never reaches another command's option of the same name; the only sharing is explicit:
 * {@code quickstart} runs preprocess and train, so it falls back to their keys; {@code segment-train} and
 * {@code nifty walk-forward} (which trains every fold) fall back to train's.
 */
public final class ConfDefaults implements CommandLine.IDefaultValueProvider {
    /** Commands whose options fall back to other commands' keys, in order. */
    static final Map<String, List<String>> SHARES = Map.of(
            "quickstart", List.of("preprocess", "train"),
            "segment-train", List.of("train"),
            "nifty.walk-forward", List.of("train"));

    private final Properties defaults;

    public ConfDefaults() {
        this(SparkSessions.defaultsFile());
    }

    ConfDefaults(Properties defaults) {
        this.defaults = defaults;
    }

    @Override
    public String defaultValue(CommandLine.Model.ArgSpec arg) {
        if (arg instanceof OptionSpec option && option.command() != null) {
            return value(commandPath(option.command()), option.longestName());
        }
        return null;
    }

    /** The conf/ default of one command's option ({@code value("train", "--lr")}), or null; shared with the benchmarks. */
    public String value(String command, String option) {
        for (String key : keys(command, option)) {
            String v = defaults.getProperty(key);
            if (v != null) {
                return v.trim();
            }
        }
        return null;
    }

    /** The keys looked up for a command's option, first match wins. */
    static List<String> keys(String command, String option) {
        String name = option.replaceFirst("^-+", "");
        List<String> keys = new ArrayList<>();
        keys.add(command + "." + name);
        SHARES.getOrDefault(command, List.of()).forEach(c -> keys.add(c + "." + name));
        return keys;
    }

    /** {@code nifty.render} for {@code sparkconv nifty render}: the command's names below the root, joined by dots. */
    static String commandPath(CommandSpec command) {
        String path = command.name();
        for (CommandSpec c = command.parent(); c != null && c.parent() != null; c = c.parent()) {
            path = c.name() + "." + path;
        }
        return path;
    }
}
