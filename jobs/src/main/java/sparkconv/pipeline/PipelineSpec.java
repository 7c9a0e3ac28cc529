package sparkconv.pipeline;

import java.io.StringReader;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

import sparkconv.SparkconvException;

/**
 * A pipeline spec ({@code pipelines/*.yaml}): parameters, Spark settings and ordered stages, each a sparkconv
 * command with its arguments, inputs and outputs. Parsed from the YAML node tree so that every error names
 * {@code file:line}; {@code ${param}} references are resolved here, with {@code --set} overrides applied first.
 *
 * <pre>
 * name: fashion-mnist
 * state: ${root}/_pipeline        # where stage records (inputs, arguments) are kept
 * params: {root: out, epochs: 10} # ${root}, ${epochs}; --set epochs=1 overrides
 * spark: {spark.master: local[*]} # Spark settings for every stage; --master / --conf override
 * stages:
 *   - name: train
 *     command: train              # a sparkconv command (several words allowed: "models list")
 *     inputs: [${root}/shards]    # must exist or be an earlier stage's output
 *     outputs: [${root}/models/models/fm/v1]   # a directory is complete with _SUCCESS, a file when it exists
 *     args: {shards: ${root}/shards, epochs: ${epochs}}   # --shards ... --epochs ...; a list repeats the flag
 * </pre>
 */
public record PipelineSpec(String file, String name, String state, Map<String, String> params, Map<String, String> spark,
                           List<Stage> stages) {

    /** One stage, its arguments in spec order (a flag may repeat), and the spec line it starts on. */
    public record Stage(String name, List<String> command, Map<String, List<String>> args, List<String> inputs,
                        List<String> outputs, int line) {
        /** The command line: command words, then {@code --key value} for each argument ({@code --key} alone for true). */
        public List<String> argv() {
            List<String> out = new ArrayList<>(command);
            args.forEach((k, values) -> {
                for (String v : values) {
                    if (v.equals("true")) {
                        out.add("--" + k);
                    } else if (!v.equals("false")) {
                        out.add("--" + k);
                        out.add(v);
                    }
                }
            });
            return out;
        }
    }

    private static final Set<String> TOP_KEYS = Set.of("name", "description", "state", "params", "spark", "stages");
    private static final Set<String> STAGE_KEYS = Set.of("name", "description", "command", "args", "inputs", "outputs");
    private static final Pattern REF = Pattern.compile("\\$\\{([A-Za-z0-9_.-]+)}");
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]*");

    /**
     * Parses and resolves a spec. {@code sets} are {@code --set key=value} overrides: {@code key} is a parameter,
     * {@code STAGE.arg} a stage argument, or {@code spark.*} a Spark setting.
     */
    public static PipelineSpec parse(String file, String yaml, Map<String, String> sets) {
        Node root;
        try {
            LoaderOptions options = new LoaderOptions();
            options.setAllowDuplicateKeys(false);
            root = new Yaml(options).compose(new StringReader(yaml));
        } catch (MarkedYAMLException e) {
            int line = e.getProblemMark() != null ? e.getProblemMark().getLine() + 1 : 1;
            // ${param} inside [ ] or { } reads as a YAML mapping: say so
            String hint = String.valueOf(e.getProblem()).contains("got {") ? " (quote \"${...}\" inside [ ] or { }, or use block lists)" : "";
            throw new SparkconvException(file + ":" + line + ": not valid YAML: " + e.getProblem() + hint);
        }
        if (root == null) {
            throw new SparkconvException(file + ":1: empty pipeline spec");
        }
        return new Parser(file, sets).spec(root);
    }

    private static final class Parser {
        final String file;
        final Map<String, String> sets;
        final Map<String, String> params = new LinkedHashMap<>();

        Parser(String file, Map<String, String> sets) {
            this.file = file;
            this.sets = new LinkedHashMap<>(sets);
        }

        SparkconvException error(Node at, String message) {
            return new SparkconvException(file + ":" + (at.getStartMark().getLine() + 1) + ": " + message);
        }

        PipelineSpec spec(Node root) {
            Map<String, NodeTuple> top = mapping(root, "the spec", TOP_KEYS);
            for (String required : List.of("name", "state", "stages")) {
                if (!top.containsKey(required)) {
                    throw error(root, "missing required key '" + required + "'");
                }
            }
            if (top.containsKey("params")) {
                // in order: a parameter may use earlier ones (shards: ${root}/shards); --set replaces the spec's value
                mapping(top.get("params").getValueNode(), "params", null).forEach((k, t) -> params.put(k,
                        sets.containsKey(k) ? sets.remove(k) : scalar(t.getValueNode(), "params." + k)));
            }
            String name = scalar(top.get("name").getValueNode(), "name");
            String state = scalar(top.get("state").getValueNode(), "state");
            Map<String, String> spark = new LinkedHashMap<>();
            if (top.containsKey("spark")) {
                mapping(top.get("spark").getValueNode(), "spark", null).forEach((k, t) -> {
                    if (!k.startsWith("spark.")) {
                        throw error(t.getKeyNode(), "spark: '" + k + "' is not a Spark setting (spark.*)");
                    }
                    spark.put(k, scalar(t.getValueNode(), "spark." + k));
                });
            }
            sets.entrySet().removeIf(set -> {
                if (set.getKey().startsWith("spark.")) {
                    spark.put(set.getKey(), set.getValue());
                    return true;
                }
                return false;
            });

            Node stagesNode = top.get("stages").getValueNode();
            if (!(stagesNode instanceof SequenceNode seq) || seq.getValue().isEmpty()) {
                throw error(stagesNode, "stages must be a non-empty list of stages");
            }
            List<Stage> stages = new ArrayList<>();
            Set<String> names = new LinkedHashSet<>();
            for (Node s : seq.getValue()) {
                Stage stage = stage(s);
                if (!names.add(stage.name())) {
                    throw error(s, "duplicate stage name '" + stage.name() + "'");
                }
                stages.add(stage);
            }
            if (!sets.isEmpty()) {
                throw new SparkconvException(file + ": --set " + sets.keySet().iterator().next()
                        + ": no such parameter, stage argument (STAGE.arg) or spark.* setting (parameters: " + params.keySet() + ")");
            }
            return new PipelineSpec(file, name, state, params, spark, stages);
        }

        Stage stage(Node node) {
            Map<String, NodeTuple> m = mapping(node, "a stage", STAGE_KEYS);
            for (String required : List.of("name", "command")) {
                if (!m.containsKey(required)) {
                    throw error(node, "stage: missing required key '" + required + "'");
                }
            }
            String name = scalar(m.get("name").getValueNode(), "stage name");
            if (!NAME.matcher(name).matches()) {
                throw error(m.get("name").getValueNode(), "stage name '" + name + "': letters, digits, _ and - only");
            }
            List<String> command = List.of(scalar(m.get("command").getValueNode(), name + ".command").trim().split("\\s+"));
            Map<String, List<String>> args = new LinkedHashMap<>();
            if (m.containsKey("args")) {
                mapping(m.get("args").getValueNode(), name + ".args", null).forEach((k, t) -> {
                    Node v = t.getValueNode();
                    if (v instanceof SequenceNode list) {
                        List<String> values = new ArrayList<>();
                        list.getValue().forEach(item -> values.add(scalar(item, name + ".args." + k)));
                        args.put(k, values);
                    } else {
                        args.put(k, List.of(scalar(v, name + ".args." + k)));
                    }
                });
            }
            for (var it = sets.entrySet().iterator(); it.hasNext(); ) {
                var set = it.next();
                if (set.getKey().startsWith(name + ".")) {
                    args.put(set.getKey().substring(name.length() + 1), List.of(set.getValue()));
                    it.remove();
                }
            }
            return new Stage(name, command, args, uris(m.get("inputs"), name + ".inputs"),
                    uris(m.get("outputs"), name + ".outputs"), node.getStartMark().getLine() + 1);
        }

        List<String> uris(NodeTuple t, String what) {
            if (t == null) {
                return List.of();
            }
            if (!(t.getValueNode() instanceof SequenceNode seq)) {
                throw error(t.getValueNode(), what + " must be a list of paths or URIs");
            }
            List<String> out = new ArrayList<>();
            seq.getValue().forEach(n -> out.add(scalar(n, what)));
            return out;
        }

        /** A mapping's entries by key; {@code allowed} (when not null) rejects unknown keys. */
        Map<String, NodeTuple> mapping(Node node, String what, Set<String> allowed) {
            if (!(node instanceof MappingNode m)) {
                throw error(node, what + " must be a mapping (key: value)");
            }
            Map<String, NodeTuple> out = new LinkedHashMap<>();
            for (NodeTuple t : m.getValue()) {
                if (!(t.getKeyNode() instanceof ScalarNode k)) {
                    throw error(t.getKeyNode(), what + ": keys must be plain names");
                }
                if (allowed != null && !allowed.contains(k.getValue())) {
                    throw error(k, "unknown key '" + k.getValue() + "' in " + what + " (allowed: " + new java.util.TreeSet<>(allowed) + ")");
                }
                out.put(k.getValue(), t);
            }
            return out;
        }

        /** A scalar's text, with ${param} references resolved. */
        String scalar(Node node, String what) {
            if (!(node instanceof ScalarNode s)) {
                throw error(node, what + " must be a single value, not a " + (node instanceof MappingNode ? "mapping" : "list"));
            }
            if (s.getTag().getValue().endsWith(":null")) {
                throw error(node, what + " has no value");
            }
            return resolve(node, s.getValue(), what);
        }

        String resolve(Node at, String text, String what) {
            Matcher m = REF.matcher(text);
            StringBuilder sb = new StringBuilder();
            while (m.find()) {
                String value = params.get(m.group(1));
                if (value == null) {
                    throw error(at, what + ": unknown parameter ${" + m.group(1) + "} (params: " + params.keySet() + ")");
                }
                m.appendReplacement(sb, Matcher.quoteReplacement(value));
            }
            m.appendTail(sb);
            return sb.toString();
        }
    }
}
