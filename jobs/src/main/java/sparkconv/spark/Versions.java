package sparkconv.spark;

import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/** Versions of sparkconv and its stack, recorded in every model's metadata (filtered from the POM at build time). */
public final class Versions {
    private Versions() {
    }

    public static Map<String, String> all() {
        Properties p = JvmFlags.load("/sparkconv/version.properties");
        Map<String, String> out = new TreeMap<>();
        p.stringPropertyNames().forEach(k -> out.put(k, p.getProperty(k)));
        out.put("java", System.getProperty("java.version"));
        return out;
    }

    public static String sparkconv() {
        return all().get("sparkconv");
    }
}
