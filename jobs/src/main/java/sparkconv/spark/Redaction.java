package sparkconv.spark;

import java.util.ArrayList;
import java.util.List;

import org.apache.spark.SparkConf;
import org.apache.spark.util.Utils;

import scala.Tuple2;
import scala.collection.JavaConverters;

/**
 * Spark settings as sparkconv itself shows them: the command line that becomes every job's description on the Spark
 * UI (and in the event log), and the command lines a pipeline prints. A {@code --conf key=value} whose key or value
 * matches {@code spark.redaction.regex} (Spark's default: secret, password, token, access key) shows its value the way
 * Spark's environment page and event log show it, through Spark's own {@code Utils.redact}: the same rule, the same
 * replacement text, and a deployment's own regex is honoured. Only what is shown is redacted; the job gets the value.
 */
public final class Redaction {
    private static final String CONF = "--conf";

    private Redaction() {
    }

    /** {@code argv} with the value of every secret {@code --conf key=value} (or {@code --conf=key=value}) replaced. */
    public static List<String> commandLine(List<String> argv, SparkConf conf) {
        List<String> shown = new ArrayList<>(argv.size());
        boolean setting = false;
        for (String arg : argv) {
            if (setting) {
                shown.add(setting(arg, conf));
            } else if (arg.startsWith(CONF + "=")) {
                shown.add(CONF + "=" + setting(arg.substring(CONF.length() + 1), conf));
            } else {
                shown.add(arg);
            }
            setting = arg.equals(CONF);
        }
        return shown;
    }

    /** {@code key=value} as shown: the value redacted when the key or the value matches the conf's redaction regex. */
    static String setting(String keyValue, SparkConf conf) {
        int eq = keyValue.indexOf('=');
        if (eq < 0) {
            return keyValue;
        }
        String key = keyValue.substring(0, eq);
        List<Tuple2<String, String>> one = List.of(new Tuple2<>(key, keyValue.substring(eq + 1)));
        Tuple2<String, String> redacted = JavaConverters.seqAsJavaList(Utils.redact(conf, JavaConverters.asScalaBuffer(one).toSeq())).get(0);
        return key + "=" + redacted._2();
    }
}
