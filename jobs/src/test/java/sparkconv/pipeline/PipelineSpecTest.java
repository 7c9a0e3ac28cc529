package sparkconv.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

import sparkconv.SparkconvException;

/** Spec parsing: resolution, precedence of --set, and errors that name file and line. */
class PipelineSpecTest {
    static final String SPEC = """
            name: demo
            state: ${root}/_state
            params:
              root: /data/out
              shards: ${root}/shards
              epochs: 3
            spark:
              spark.master: local[2]
            stages:
              - name: prep
                command: preprocess
                outputs:
                  - ${shards}
                args: {out: "${shards}", limit: 100}
              - name: fit
                command: train
                inputs:
                  - ${shards}
                outputs:
                  - ${root}/store/models/m/v1
                args:
                  shards: ${shards}
                  epochs: ${epochs}
                  stats: true
                  conf: [a=1, b=2]
            """;

    static SparkconvException error(String yaml, Map<String, String> sets) {
        return assertThrows(SparkconvException.class, () -> PipelineSpec.parse("p.yaml", yaml, sets));
    }

    @Test
    void resolvesParametersInOrderAndBuildsCommandLines() {
        PipelineSpec spec = PipelineSpec.parse("p.yaml", SPEC, Map.of());
        assertEquals("/data/out/_state", spec.state());
        assertEquals(Map.of("spark.master", "local[2]"), spec.spark());
        PipelineSpec.Stage fit = spec.stages().get(1);
        assertEquals(15, fit.line());
        assertEquals(List.of("train", "--shards", "/data/out/shards", "--epochs", "3", "--stats", "--conf", "a=1", "--conf", "b=2"),
                fit.argv());
        assertEquals(List.of("/data/out/store/models/m/v1"), fit.outputs());
    }

    @Test
    void setOverridesParametersStageArgumentsAndSparkSettings() {
        PipelineSpec spec = PipelineSpec.parse("p.yaml", SPEC,
                Map.of("root", "hdfs://nn:8020/x", "fit.epochs", "1", "spark.master", "spark://h:7077"));
        PipelineSpec.Stage fit = spec.stages().get(1);
        assertEquals("hdfs://nn:8020/x/shards", fit.args().get("shards").get(0), "derived parameters follow the override");
        assertEquals(List.of("1"), fit.args().get("epochs"), "CLI beats the spec's ${epochs}");
        assertEquals("spark://h:7077", spec.spark().get("spark.master"));
        assertTrue(error(SPEC, Map.of("epoch", "1")).getMessage().startsWith("p.yaml: --set epoch: no such parameter"));
    }

    @Test
    void errorsNameFileAndLine() {
        assertEquals("p.yaml:11: unknown key 'comand' in a stage (allowed: [args, command, description, inputs, name, outputs])",
                error(SPEC.replace("    command: preprocess", "    comand: preprocess"), Map.of()).getMessage());
        assertEquals("p.yaml:14: prep.args.out must be a single value, not a mapping",
                error(SPEC.replace("{out: \"${shards}\", limit: 100}", "{out: {dir: x}, limit: 100}"), Map.of()).getMessage());
        assertEquals("p.yaml:23: fit.args.epochs: unknown parameter ${epoch} (params: [root, shards, epochs])",
                error(SPEC.replace("epochs: ${epochs}", "epochs: ${epoch}"), Map.of()).getMessage());
        assertEquals("p.yaml:9: stages must be a non-empty list of stages",
                error(SPEC.substring(0, SPEC.indexOf("stages:")) + "stages: {a: 1}\n", Map.of()).getMessage());
        assertEquals("p.yaml:15: duplicate stage name 'prep'",
                error(SPEC.replace("name: fit", "name: prep"), Map.of()).getMessage());
        assertTrue(error(SPEC.replace("  epochs: 3", "  epochs: [3"), Map.of()).getMessage().matches("p\\.yaml:\\d+: not valid YAML: .*"));
        assertEquals("p.yaml:1: missing required key 'state'",
                error(SPEC.replace("state: ${root}/_state\n", ""), Map.of()).getMessage());
    }

    @Test
    void shippedPipelinesParse() throws Exception {
        Path dir = Path.of("").toAbsolutePath().getParent().resolve("pipelines");
        try (Stream<Path> files = Files.list(dir)) {
            List<Path> specs = files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList();
            assertEquals(List.of("fashion-mnist.yaml", "nifty-candle-20.yaml", "score-archive.yaml"),
                    specs.stream().map(p -> p.getFileName().toString()).toList());
            for (Path f : specs) {
                PipelineSpec spec = PipelineSpec.parse(f.toString(), Files.readString(f), Map.of());
                assertTrue(spec.stages().size() >= 1, f.toString());
                for (PipelineSpec.Stage s : spec.stages()) {
                    assertTrue(!s.outputs().isEmpty(), f + ": stage " + s.name() + " declares outputs (else it never counts as complete)");
                }
            }
        }
    }
}
