package sparkconv.cli;

import java.util.concurrent.Callable;

import org.apache.hadoop.conf.Configuration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import sparkconv.report.TrainingReport;

@Command(name = "report", description = "Write report.html into a stored model version: a self-contained page (no network) with loss and "
                + "accuracy curves, the confusion heat map, per-class metrics, the Spark time split and sample predictions. "
                + "train writes it automatically; this re-renders it.")
final class ReportCommand implements Callable<Integer>, JobCommand<TrainingReport.Params> {
    @picocli.CommandLine.Mixin
    HelpOption helpOption;

    @Option(names = "--store", required = true, description = "model store root (any Hadoop URI)")
    String store;

    @Option(names = "--name", required = true, description = "model name")
    String name;

    @Option(names = "--version", defaultValue = "latest", description = "version (default ${DEFAULT-VALUE})")
    String version;

    @Override
    public TrainingReport.Params params() {
        return new TrainingReport.Params(store, name, version);
    }

    @Override
    public Integer call() {
        System.out.println("report written to " + TrainingReport.write(new Configuration(), params()));
        return 0;
    }
}
