package sparkconv.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.Assumptions;

/**
 * deploy/airflow/dags/sparkconv_retrain.py as deploy/airflow/dag_structure.py reads it with Python's ast (Airflow
 * cannot be installed here), and its tasks' sparkconv command lines rendered as Airflow renders their templates.
 * Shared by the DAG's shape test and the YARN test that runs its commands.
 */
public final class AirflowDag {
    /** The repository root (tests run in jobs/). */
    public static final Path ROOT = Path.of("").toAbsolutePath().getParent();
    private static final Pattern TEMPLATE = Pattern.compile("\\{\\{\\s*(.+?)\\s*}}");
    private final JsonNode structure;

    private AirflowDag(JsonNode structure) {
        this.structure = structure;
    }

    /** The DAG's structure, with the given Airflow Variables set (NAME -> value); skips the test without python3. */
    public static AirflowDag read(Map<String, String> variables) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("python3", "deploy/airflow/dag_structure.py"));
        variables.forEach((k, v) -> command.addAll(List.of("--var", k + "=" + v)));
        command.add("deploy/airflow/dags/sparkconv_retrain.py");
        Process p;
        try {
            p = new ProcessBuilder(command).directory(ROOT.toFile()).start();
        } catch (IOException e) {
            Assumptions.abort("SKIPPED: python3 not available: " + e.getMessage());
            throw e;
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IllegalStateException("dag_structure.py failed: " + err);
        }
        return new AirflowDag(new ObjectMapper().readTree(out));
    }

    public JsonNode structure() {
        return structure;
    }

    /** The tasks by task id, in the order the DAG file defines them. */
    public Map<String, JsonNode> tasks() {
        Map<String, JsonNode> out = new LinkedHashMap<>();
        structure.get("tasks").forEach(t -> out.put(t.get("task_id").asText(), t));
        return out;
    }

    /**
     * The sparkconv arguments a task runs, templates filled from {@code values} (e.g. {@code ds}, {@code params.store}):
     * a SparkSubmitOperator's {@code application_args}, or a BashOperator's command after the sparkconv launcher;
     * empty for other operators.
     */
    public List<String> sparkconvArgs(String taskId, Function<String, String> values) {
        JsonNode k = tasks().get(taskId).get("kwargs");
        List<String> argv = new ArrayList<>();
        if (k.has("application_args")) {
            k.get("application_args").forEach(a -> argv.add(render(a.asText(), values)));
        } else if (k.has("bash_command")) {
            List<String> words = Arrays.asList(render(k.get("bash_command").asText(), values).replace("'", "").split("\\s+"));
            if (!words.get(0).endsWith("/sparkconv")) {
                throw new IllegalStateException(taskId + " does not run the sparkconv launcher: " + words);
            }
            argv.addAll(words.subList(1, words.size()));
        }
        return argv;
    }

    /** {@code template} with every {@code {{ name }}} replaced by {@code values.apply(name)} (null: unknown, an error). */
    public static String render(String template, Function<String, String> values) {
        Matcher m = TEMPLATE.matcher(template);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            String v = values.apply(m.group(1));
            if (v == null) {
                throw new IllegalArgumentException("unknown template " + m.group() + " in " + template);
            }
            m.appendReplacement(sb, Matcher.quoteReplacement(v));
        }
        m.appendTail(sb);
        return sb.toString();
    }
}
