package sparkconv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import sparkconv.LocalSpark;
import sparkconv.SparkconvException;
import sparkconv.TestData;
import sparkconv.pipeline.Pipeline;
import sparkconv.pipeline.PipelineSpec;

/**
 * pipelines/fashion-mnist.yaml run for real (tiny: 1,000 images, 1 epoch) on the shared local SparkSession through
 * the CLI's command runner: a failed stage stops the run, the next run resumes after the completed stages, an
 * unchanged re-run skips everything, and --from re-runs from a stage. Spec errors stop everything before it starts.
 */
class PipelineRunTest {
    static final Path SPEC = Path.of("").toAbsolutePath().getParent().resolve("pipelines/fashion-mnist.yaml");

    @TempDir
    Path out;

    /** The CLI's commands, recording which ran. */
    static final class Recording implements Pipeline.Commands {
        final PipelineCommand.CliCommands cli = new PipelineCommand.CliCommands();
        final List<String> ran = new ArrayList<>();

        @Override
        public String check(List<String> argv) {
            return cli.check(argv);
        }

        @Override
        public boolean isSparkJob(List<String> command) {
            return cli.isSparkJob(command);
        }

        @Override
        public int run(List<String> argv) {
            ran.add(argv.get(0));
            return cli.run(argv);
        }
    }

    Map<String, String> tiny(String... more) {
        Map<String, String> sets = new LinkedHashMap<>(Map.of("data", TestData.fashionMnist().toString(), "root", out.toString(),
                "limit", "1000", "validation", "200", "epochs", "1"));
        for (int i = 0; i < more.length; i += 2) {
            sets.put(more[i], more[i + 1]);
        }
        return sets;
    }

    List<String> run(Recording commands, Map<String, String> sets, String from) throws Exception {
        PipelineSpec spec = PipelineSpec.parse(SPEC.toString(), Files.readString(SPEC), sets);
        List<String> outcomes = new ArrayList<>();
        new Pipeline(spec, commands, new Configuration(), System.out::println)
                .run(from, Map.of("spark.master", "local[2]"), false)
                .forEach(o -> outcomes.add(o.stage() + ":" + o.outcome()));
        return outcomes;
    }

    @Test
    void resumesAfterAFailureSkipsCompleteStagesAndRerunsFromAStage() throws Exception {
        LocalSpark.get(); // stages share the one test session
        Recording failing = new Recording();
        SparkconvException failure = assertThrows(SparkconvException.class, () -> run(failing, tiny("train.model", "no-such-net"), null));
        assertTrue(failure.getMessage().matches(".*fashion-mnist\\.yaml:\\d+: stage train failed \\(exit 2\\).*"), failure.getMessage());
        assertEquals(List.of("preprocess", "train"), failing.ran);

        Recording resumed = new Recording();
        assertEquals(List.of("preprocess:SKIPPED", "train:RAN", "evaluate:RAN"), run(resumed, tiny(), null));
        assertEquals(List.of("train", "evaluate"), resumed.ran);
        assertTrue(Files.isRegularFile(out.resolve("store/models/fashion-mnist-lenet5/v1/_SUCCESS")));
        assertTrue(Files.readString(out.resolve("eval/fashion-mnist-lenet5-v1.json")).contains("\"accuracy\""));

        Recording again = new Recording();
        assertEquals(List.of("preprocess:SKIPPED", "train:SKIPPED", "evaluate:SKIPPED"), run(again, tiny(), null));
        assertEquals(List.of(), again.ran);

        Recording fromEvaluate = new Recording();
        assertEquals(List.of("evaluate:RAN"), run(fromEvaluate, tiny(), "evaluate"));

        // a changed argument re-runs that stage and what reads its output (evaluate's arguments change with it)
        Recording newVersion = new Recording();
        assertEquals(List.of("preprocess:SKIPPED", "train:RAN", "evaluate:RAN"), run(newVersion, tiny("version", "v2"), null));
    }

    @Test
    void specErrorsStopEverythingBeforeTheFirstStage() throws Exception {
        Recording commands = new Recording();
        SparkconvException missing = assertThrows(SparkconvException.class,
                () -> run(commands, tiny("data", out.resolve("no-such-dir").toString()), null));
        assertEquals(SPEC + ":" + lineOf("  - name: preprocess") + ": stage preprocess: input " + out.resolve("no-such-dir")
                + " does not exist and no earlier stage writes it", missing.getMessage());

        SparkconvException badOption = assertThrows(SparkconvException.class, () -> run(commands, tiny("train.epoch", "2"), null));
        assertEquals(SPEC + ":" + lineOf("  - name: train") + ": stage train: Unknown options: '--epoch', '2'", badOption.getMessage());

        SparkconvException badType = assertThrows(SparkconvException.class, () -> run(commands, tiny("epochs", "ten"), null));
        assertTrue(badType.getMessage().startsWith(SPEC + ":" + lineOf("  - name: train") + ": stage train: Invalid value for option '--epochs': 'ten'"),
                badType.getMessage());
        assertEquals(List.of(), commands.ran);
    }

    static int lineOf(String text) throws Exception {
        return Files.readAllLines(SPEC).indexOf(text) + 1;
    }
}
