package sparkconv.spark;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * The one list of JVM / ND4J flags ({@code conf/jvm.properties}, packaged as a resource). The launcher and
 * surefire read the same file; Spark executors get it through {@code spark.executor.extraJavaOptions}.
 */
public final class JvmFlags {
    static final String RESOURCE = "/sparkconv/conf/jvm.properties";

    private JvmFlags() {
    }

    public static String flags() {
        return load(RESOURCE).getProperty("jvm.flags", "").trim().replaceAll("\\s+", " ");
    }

    static Properties load(String resource) {
        Properties p = new Properties();
        try (InputStream in = JvmFlags.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing classpath resource " + resource + " (build with mvn package)");
            }
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return p;
    }
}
