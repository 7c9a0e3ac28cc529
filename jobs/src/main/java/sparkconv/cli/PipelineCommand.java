package sparkconv.cli;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import org.apache.hadoop.conf.Configuration;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import sparkconv.pipeline.Pipeline;
import sparkconv.pipeline.PipelineSpec;
import sparkconv.spark.Fs;

@Command(name = "pipeline", description = "Run declarative pipelines (pipelines/*.yaml).",
        subcommands = {PipelineCommand.Run.class})
final class PipelineCommand implements Runnable {
    @picocli.CommandLine.Mixin
    HelpOption helpOption;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required (run)");
    }

    @Command(name = "run",
            description = "Check a pipeline spec (errors name file:line, before anything runs), then run its stages in "
                    + "order, skipping stages whose outputs are complete (_SUCCESS) from the same arguments and inputs. "
                    + "Precedence: CLI (--set, --master, --conf) > spec > conf/ defaults.")
    static final class Run implements Callable<Integer> {
        @picocli.CommandLine.Mixin
        HelpOption helpOption;

        @Parameters(paramLabel = "FILE", description = "pipeline spec (YAML; any Hadoop URI)")
        String file;

        @Option(names = "--set", paramLabel = "KEY=VALUE",
                description = "override a parameter (KEY), a stage argument (STAGE.ARG) or a Spark setting (spark.*); repeatable")
        Map<String, String> sets = new LinkedHashMap<>();

        @Option(names = "--from", paramLabel = "STAGE", description = "start at this stage (it runs even if complete); earlier stages are not run")
        String from;

        @Option(names = "--dry-run", description = "check the spec and print what would run or be skipped")
        boolean dryRun;

        @CommandLine.Mixin
        SparkOptions sparkOptions;

        @Override
        public Integer call() {
            Configuration conf = new Configuration();
            PipelineSpec spec = PipelineSpec.parse(file, Fs.readString(Fs.path(file), conf), sets);
            Map<String, String> spark = new LinkedHashMap<>(sparkOptions.conf);
            if (sparkOptions.master != null) {
                spark.put("spark.master", sparkOptions.master);
            }
            new Pipeline(spec, new CliCommands(), conf, System.out::println).run(from, spark, dryRun);
            return 0;
        }
    }

    /** Stage commands are sparkconv command lines, checked with picocli's parser and run in this JVM (one SparkSession). */
    static final class CliCommands implements Pipeline.Commands {
        @Override
        public String check(List<String> argv) {
            try {
                Main.commandLine().parseArgs(argv.toArray(String[]::new));
                return null;
            } catch (CommandLine.ParameterException e) {
                return e.getMessage();
            }
        }

        @Override
        public boolean isSparkJob(List<String> command) {
            CommandLine cl = Main.commandLine();
            for (String word : command) {
                cl = cl.getSubcommands().get(word);
                if (cl == null) {
                    return false;
                }
            }
            return cl.getCommandSpec().findOption("--master") != null;
        }

        @Override
        public int run(List<String> argv) {
            return Main.run(argv.toArray(String[]::new));
        }
    }
}
