package sparkconv.cli;

import java.util.Map;
import java.util.concurrent.Callable;

import org.apache.hadoop.conf.Configuration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import sparkconv.store.ModelStore;
import sparkconv.store.Promotion;

@Command(name = "models", description = "Inspect the model store.",
        subcommands = {ModelsCommand.List.class, PromoteCommand.class})
final class ModelsCommand implements Runnable {
    @picocli.CommandLine.Mixin
    HelpOption helpOption;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "a subcommand is required (list, promote)");
    }

    @Command(name = "list", description = "List stored models and versions with their test metrics.")
    static final class List implements Callable<Integer> {
        @picocli.CommandLine.Mixin
        HelpOption helpOption;

        @Option(names = "--store", required = true, description = "model store root (any Hadoop URI)")
        String store;

        @Option(names = "--name", description = "only this model")
        String name;

        @Override
        public Integer call() {
            ModelStore s = new ModelStore(store, new Configuration());
            var names = name != null ? java.util.List.of(name) : s.modelNames();
            if (names.isEmpty()) {
                System.out.println("no models in " + s.root());
            }
            System.out.printf("%-28s %-8s %-5s %-10s %-8s %-24s%n", "model", "version", "best", "accuracy", "epochs", "created");
            Promotion promotion = new Promotion(s, new Configuration());
            for (String n : names) {
                String best = promotion.best(n).map(Promotion.Best::version).orElse(null);
                for (String v : s.versionNames(n)) {
                    ModelStore.Version ver = s.get(n, v);
                    Object test = ver.metrics().get("test");
                    // classification accuracy, or pixel accuracy for segmentation versions
                    Object acc = test instanceof Map<?, ?> m ? (m.containsKey("accuracy") ? m.get("accuracy") : m.get("pixelAccuracy")) : null;
                    Object training = ver.metadata().get("training");
                    Object epochs = training instanceof Map<?, ?> m ? m.get("epochs") : "";
                    System.out.printf("%-28s %-8s %-5s %-10s %-8s %-24s%n", n, v, v.equals(best) ? "*" : "",
                            acc instanceof Number a ? String.format("%.4f", a.doubleValue()) : "-", epochs,
                            ver.metadata().getOrDefault("created", ""));
                }
            }
            return 0;
        }
    }
}
