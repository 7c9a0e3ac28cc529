package sparkconv.jobs;

import java.util.Properties;

import picocli.CommandLine;

import sparkconv.spark.SparkSessions;

/**
 * Option defaults come from {@code conf/defaults.properties} ({@code cli.<option>}), the lowest layer of the one
 * config path: conf/ defaults < pipeline spec < CLI flag. Options without an entry keep their annotated default.
 */
final class ConfDefaults implements CommandLine.IDefaultValueProvider {
    private final Properties defaults = SparkSessions.defaultsFile();

    @Override
    public String defaultValue(CommandLine.Model.ArgSpec arg) {
        if (arg instanceof CommandLine.Model.OptionSpec option) {
            return defaults.getProperty("cli." + option.longestName().replaceFirst("^-+", ""));
        }
        return null;
    }
}
