package sparkconv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static sparkconv.cli.CommandHarness.assertOneLineError;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.apache.hadoop.conf.Configuration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import sparkconv.Tampering;
import sparkconv.TestModels;
import sparkconv.models.Hyper;
import sparkconv.models.ModelZoo;
import sparkconv.store.ModelStore;
import sparkconv.store.Promotion;

/** {@code models promote} both ways (promoted / not better), the atomic pointer, and {@code models list}'s best column. */
class PromoteCommandTest {
    @TempDir
    static Path dir;
    static String store;

    /** Three versions of a real (untrained) LeNet-5 with test accuracies 0.80, 0.85, 0.83 and losses to match. */
    @BeforeAll
    static void versions() {
        store = dir.resolve("store").toString();
        ModelStore s = new ModelStore(store, new Configuration());
        MultiLayerNetwork net = new MultiLayerNetwork(ModelZoo.build("lenet5", new ModelZoo.Input(1, 28, 28), 10,
                new Hyper("sgd", 0.01, 0, 0, 1)));
        net.init();
        double[] accuracy = {0.80, 0.85, 0.83};
        for (int i = 0; i < accuracy.length; i++) {
            s.publish("m", "v" + (i + 1), net, Map.of("created", "t" + i),
                    Map.of("test", Map.of("accuracy", accuracy[i]), "validation", Map.of("loss", 1 - accuracy[i])));
        }
    }

    private static String[] run(int expectedCode, String... args) {
        PrintStream old = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true));
        int code;
        try {
            code = Main.run(args);
        } finally {
            System.setOut(old);
        }
        String text = out.toString();
        assertEquals(expectedCode, code, Arrays.toString(args) + " printed: " + text);
        return text.split("\n");
    }

    @Test
    void promotesOnlyWhenBetterAndListShowsTheBest() throws java.io.IOException {
        run(0, "models", "promote", "--store", store, "--name", "m", "--version", "v1", "--if-better", "accuracy");
        String[] out = run(0, "models", "promote", "--store", store, "--name", "m", "--version", "v2", "--if-better", "accuracy");
        assertTrue(out[0].startsWith("m v2 is now best, was v1 (accuracy 0.8500 vs 0.8000)"), out[0]);
        out = run(PromoteCommand.NOT_BETTER, "models", "promote", "--store", store, "--name", "m", "--version", "v3",
                "--if-better", "accuracy");
        assertTrue(out[0].startsWith("not promoted: m v3 is not better than best v2"), out[0]);
        Promotion promotion = new Promotion(new ModelStore(store, new Configuration()), new Configuration());
        assertEquals("v2", promotion.best("m").orElseThrow().version());

        // a loss metric: lower wins, so v3 (loss 0.17) does not beat v2 (0.15), and v1 (0.20) neither
        run(PromoteCommand.NOT_BETTER, "models", "promote", "--store", store, "--name", "m", "--version", "v1",
                "--if-better", "validation.loss");

        String[] list = run(0, "models", "list", "--store", store);
        String v2 = Arrays.stream(list).filter(l -> l.startsWith("m ") && l.contains(" v2 ")).findFirst().orElseThrow();
        assertTrue(v2.matches("m\\s+v2\\s+\\*\\s+0\\.8500.*"), v2);
        assertTrue(Arrays.stream(list).filter(l -> l.contains(" v1 ") || l.contains(" v3 ")).noneMatch(l -> l.contains("*")));

        // without --if-better the pointer moves unconditionally (e.g. a rollback); nothing but best.json is left
        run(0, "models", "promote", "--store", store, "--name", "m", "--version", "v3");
        assertEquals("v3", promotion.best("m").orElseThrow().version());
        try (var files = Files.list(dir.resolve("store/models/m"))) {
            var names = files.map(p -> p.getFileName().toString()).sorted().toList();
            assertFalse(names.stream().anyMatch(n -> n.startsWith(".best.json-")), "no temporary pointer left: " + names);
        }
    }

    /** A version whose model or metrics changed after publishing never becomes best: one line naming the file, exit 2. */
    @Test
    void aVersionChangedAfterPublishingIsNotPromoted() throws java.io.IOException {
        String tampered = dir.resolve("tampered").toString();
        ModelStore s = new ModelStore(tampered, new Configuration());
        MultiLayerNetwork net = TestModels.untrained(new ModelZoo.Input(1, 28, 28), 10);
        for (String v : List.of("v1", "v2", "v3")) {
            s.publish("m", v, net, Map.of(), Map.of("test", Map.of("accuracy", 0.5)));
        }
        Tampering.flipOneWeightBit(dir.resolve("tampered/models/m/v1/model.zip"));
        Tampering.flipOneBit(dir.resolve("tampered/models/m/v2/metrics.json"));
        assertOneLineError(CommandHarness.run("models", "promote", "--store", tampered, "--name", "m", "--version", "v1"), 2,
                "/models/m/v1/model.zip: sha256 ");
        assertOneLineError(CommandHarness.run("models", "promote", "--store", tampered, "--name", "m", "--version", "v2", "--if-better",
                "accuracy"), 2, "/models/m/v2/metrics.json: sha256 ");
        assertTrue(new Promotion(s, new Configuration()).best("m").isEmpty(), "no best");
        run(0, "models", "promote", "--store", tampered, "--name", "m", "--version", "v3");
    }

    @Test
    void badInputIsOneClearLine() {
        run(2, "models", "promote", "--store", store, "--name", "m", "--version", "v9");
        run(2, "models", "promote", "--store", store, "--name", "m", "--version", "v1", "--if-better", "nosuchmetric");
        run(2, "models", "promote", "--store", store, "--name", "nosuchmodel");
    }
}
