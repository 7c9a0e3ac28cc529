package sparkconv.jobs;

import java.util.Map;
import java.util.concurrent.Callable;

import org.apache.hadoop.conf.Configuration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import sparkconv.store.ModelStore;

@Command(name = "models", description = "Inspect the model store.",
        subcommands = {ModelsCommand.List.class})
final class ModelsCommand implements Runnable {
    @picocli.CommandLine.Mixin
    HelpOption helpOption;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "a subcommand is required (list)");
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
            System.out.printf("%-28s %-8s %-10s %-8s %-24s%n", "model", "version", "accuracy", "epochs", "created");
            for (String n : names) {
                for (String v : s.versionNames(n)) {
                    ModelStore.Version ver = s.get(n, v);
                    Object test = ver.metrics().get("test");
                    Object acc = test instanceof Map<?, ?> m ? m.get("accuracy") : null;
                    Object training = ver.metadata().get("training");
                    Object epochs = training instanceof Map<?, ?> m ? m.get("epochs") : "";
                    System.out.printf("%-28s %-8s %-10s %-8s %-24s%n", n, v,
                            acc instanceof Number a ? String.format("%.4f", a.doubleValue()) : "-", epochs,
                            ver.metadata().getOrDefault("created", ""));
                }
            }
            return 0;
        }
    }
}
