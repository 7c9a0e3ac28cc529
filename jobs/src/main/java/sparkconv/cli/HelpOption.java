package sparkconv.cli;

import picocli.CommandLine.Option;

/** {@code -h/--help} for subcommands (picocli's standard mixin would also add {@code --version}, which train uses for model versions). */
final class HelpOption {
    @Option(names = {"-h", "--help"}, usageHelp = true, description = "show this help and exit")
    boolean help;
}
