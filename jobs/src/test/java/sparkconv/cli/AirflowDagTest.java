package sparkconv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import sparkconv.spark.SparkSessions;
import sparkconv.spark.Versions;

/**
 * deploy/airflow/dags/sparkconv_retrain.py read with Python's ast (deploy/airflow/dag_structure.py; Airflow cannot be
 * installed here): it parses, has the expected operators, task ids, dependencies, retries and parameters, and every
 * sparkconv command line it runs (templates filled with sample values) is accepted by this CLI's parser. YarnEndToEndIT
 * runs those command lines against a real YARN cluster.
 */
class AirflowDagTest {
    static AirflowDag airflowDag;
    static JsonNode dag;
    static final Map<String, String> SAMPLE = Map.of("ds", "2026-01-01", "ds_nodash", "20260101", "params.epochs", "1",
            "params.metric", "accuracy", "params.name", "fashion-mnist-lenet5", "params.model", "lenet5");

    @BeforeAll
    static void readDag() throws Exception {
        airflowDag = AirflowDag.read(Map.of());
        dag = airflowDag.structure();
    }

    static Map<String, JsonNode> tasks() {
        return airflowDag.tasks();
    }

    @Test
    void dailyWithRetriesParamsAndTheExpectedTasksInOrder() {
        JsonNode d = dag.get("dag");
        assertEquals("sparkconv_retrain", d.get("dag_id").asText());
        assertEquals("@daily", d.get("schedule").asText());
        assertEquals(1, d.get("max_active_runs").asInt(), "promotions must not interleave");
        assertTrue(d.get("default_args").get("retries").asInt() >= 1);
        for (String param : List.of("data", "store", "work", "archive", "scores", "name", "model", "epochs", "metric")) {
            assertEquals("Param", d.get("params").get(param).get("call").asText(), param);
        }

        Map<String, JsonNode> tasks = tasks();
        Map<String, String> operators = new LinkedHashMap<>();
        tasks.forEach((id, t) -> operators.put(id, t.get("operator").asText()));
        assertEquals(Map.of("wait_for_data", "WebHdfsSensor", "preprocess", "SparkSubmitOperator", "train", "SparkSubmitOperator",
                "evaluate", "SparkSubmitOperator", "promote", "BashOperator", "score", "SparkSubmitOperator"), operators);
        assertEquals(List.of("wait_for_data", "preprocess", "train", "evaluate", "promote", "score"), List.copyOf(tasks.keySet()));
        assertEquals("airflow.providers.apache.spark.operators.spark_submit", dag.get("imports").get("SparkSubmitOperator").asText());
        assertEquals("airflow.providers.apache.hdfs.sensors.web_hdfs", dag.get("imports").get("WebHdfsSensor").asText());

        List<List<String>> edges = new ArrayList<>();
        dag.get("edges").forEach(e -> edges.add(List.of(e.get(0).asText(), e.get(1).asText())));
        assertEquals(List.of(List.of("wait_for_data", "preprocess"), List.of("preprocess", "train"), List.of("train", "evaluate"),
                List.of("evaluate", "promote"), List.of("promote", "score")), edges);

        assertTrue(tasks.get("wait_for_data").get("kwargs").get("filepath").asText().endsWith("/_SUCCESS"));
        assertEquals(3, tasks.get("promote").get("kwargs").get("skip_on_exit_code").asInt(), "not better = skipped, not failed");
        assertEquals("none_failed", tasks.get("score").get("kwargs").get("trigger_rule").asText());
    }

    @Test
    void sparkSubmitTasksRunTheShadedJarWithTheSparkconvConfiguration() {
        Map<String, String> defaults = SparkSessions.defaults();
        tasks().values().stream().filter(t -> t.get("operator").asText().equals("SparkSubmitOperator")).forEach(t -> {
            JsonNode k = t.get("kwargs");
            String id = t.get("task_id").asText();
            assertEquals("sparkconv.cli.Main", k.get("java_class").asText(), id);
            assertEquals("spark_sparkconv", k.get("conn_id").asText(), id);
            assertTrue(k.get("application").asText().endsWith("/jobs/target/sparkconv-" + Versions.sparkconv() + ".jar"), id);
            assertEquals(defaults.get("spark.kryo.registrator"), k.get("conf").get("spark.kryo.registrator").asText(), id);
            assertEquals(defaults.get("spark.serializer"), k.get("conf").get("spark.serializer").asText(), id);
            assertEquals("1", k.get("conf").get("spark.executorEnv.OMP_NUM_THREADS").asText(), id);
            assertEquals("8388608", k.get("conf").get("spark.executorEnv.MALLOC_MMAP_THRESHOLD_").asText(), id);
            assertEquals("134217728", k.get("conf").get("spark.executorEnv.MALLOC_TRIM_THRESHOLD_").asText(), id);
            assertEquals(1, k.get("executor_cores").asInt(), id);
            assertEquals(id, k.get("application_args").get(0).asText(), "the task id is the command");
        });
    }

    /** Every command line the DAG runs parses with this CLI, where the command exists in this build. */
    @Test
    void everyCommandLineParsesWithTheCli() {
        PipelineCommand.CliCommands cli = new PipelineCommand.CliCommands();
        List<String> checked = new ArrayList<>();
        List<String> absent = new ArrayList<>();
        for (JsonNode t : tasks().values()) {
            List<String> argv = airflowDag.sparkconvArgs(t.get("task_id").asText(), AirflowDagTest::sample);
            if (argv.isEmpty()) {
                continue;
            }
            if (exists(argv)) {
                assertNull(cli.check(argv), t.get("task_id").asText() + ": " + argv);
                checked.add(t.get("task_id").asText());
            } else {
                absent.add(t.get("task_id").asText());
            }
        }
        assertTrue(checked.containsAll(List.of("preprocess", "train", "evaluate")), "checked " + checked);
        System.out.println("DAG command lines checked against the CLI: " + checked + "; commands not in this build: " + absent);
    }

    private static boolean exists(List<String> argv) {
        CommandLine cl = new CommandLine(new Main());
        for (String word : argv) {
            if (word.startsWith("-")) {
                return true;
            }
            CommandLine sub = cl.getSubcommands().get(word);
            if (sub == null) {
                return cl.getCommandSpec().subcommands().isEmpty();
            }
            cl = sub;
        }
        return true;
    }

    /** Sample template values; a param not listed is an HDFS path named after it. */
    private static String sample(String name) {
        return SAMPLE.getOrDefault(name, name.startsWith("params.") ? "hdfs://nn:8020/" + name.substring(7) : null);
    }
}
