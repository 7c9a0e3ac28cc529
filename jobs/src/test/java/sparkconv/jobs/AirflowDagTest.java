package sparkconv.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import sparkconv.spark.SparkSessions;
import sparkconv.spark.Versions;

/**
 * deploy/airflow/dags/sparkconv_retrain.py read with Python's ast (deploy/airflow/dag_structure.py; Airflow cannot be
 * installed here): it parses, has the expected operators, task ids, dependencies, retries and parameters, and every
 * sparkconv command line it runs (templates filled with sample values) is accepted by this CLI's parser.
 */
class AirflowDagTest {
    static final Path ROOT = Path.of("").toAbsolutePath().getParent();
    static JsonNode dag;
    static final Map<String, String> SAMPLE = Map.of("ds", "2026-01-01", "ds_nodash", "20260101", "params.epochs", "1",
            "params.metric", "accuracy", "params.name", "fashion-mnist-lenet5", "params.model", "lenet5");
    static final Pattern TEMPLATE = Pattern.compile("\\{\\{\\s*(.+?)\\s*}}");

    @BeforeAll
    static void readDag() throws Exception {
        Process p;
        try {
            p = new ProcessBuilder("python3", "deploy/airflow/dag_structure.py", "deploy/airflow/dags/sparkconv_retrain.py")
                    .directory(ROOT.toFile()).start();
        } catch (java.io.IOException e) {
            Assumptions.abort("SKIPPED: python3 not available: " + e.getMessage());
            return;
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), err);
        dag = new ObjectMapper().readTree(out);
    }

    static Map<String, JsonNode> tasks() {
        Map<String, JsonNode> out = new LinkedHashMap<>();
        dag.get("tasks").forEach(t -> out.put(t.get("task_id").asText(), t));
        return out;
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
            assertEquals("sparkconv.jobs.Main", k.get("java_class").asText(), id);
            assertEquals("spark_sparkconv", k.get("conn_id").asText(), id);
            assertTrue(k.get("application").asText().endsWith("/jobs/target/sparkconv-" + Versions.sparkconv() + ".jar"), id);
            assertEquals(defaults.get("spark.kryo.registrator"), k.get("conf").get("spark.kryo.registrator").asText(), id);
            assertEquals(defaults.get("spark.serializer"), k.get("conf").get("spark.serializer").asText(), id);
            assertEquals("1", k.get("conf").get("spark.executorEnv.OMP_NUM_THREADS").asText(), id);
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
            JsonNode k = t.get("kwargs");
            List<String> argv = new ArrayList<>();
            if (k.has("application_args")) {
                k.get("application_args").forEach(a -> argv.add(fill(a.asText())));
            } else if (k.has("bash_command")) {
                List<String> words = Arrays.asList(fill(k.get("bash_command").asText()).replace("'", "").split("\\s+"));
                assertTrue(words.get(0).endsWith("/sparkconv"), "runs the sparkconv launcher: " + words);
                argv.addAll(words.subList(1, words.size()));
            } else {
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

    private static String fill(String template) {
        Matcher m = TEMPLATE.matcher(template);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            String v = SAMPLE.getOrDefault(m.group(1), m.group(1).startsWith("params.") ? "hdfs://nn:8020/" + m.group(1).substring(7) : null);
            assertTrue(v != null, "unknown template " + m.group());
            m.appendReplacement(sb, Matcher.quoteReplacement(v));
        }
        m.appendTail(sb);
        return sb.toString();
    }
}
