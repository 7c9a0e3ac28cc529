package sparkconv.spark;

import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

import javax.imageio.ImageIO;

import org.apache.spark.SparkConf;
import org.apache.spark.SparkContext;
import org.apache.spark.api.plugin.DriverPlugin;
import org.apache.spark.api.plugin.ExecutorPlugin;
import org.apache.spark.api.plugin.PluginContext;
import org.apache.spark.api.plugin.SparkPlugin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns javax.imageio's disk cache off in the driver and in every executor JVM, as each starts and before it runs a
 * task. Spark's {@code image} data source decodes with {@code ImageIO.read(InputStream)}, which by default first copies
 * each image's stream into a temporary file ({@code ImageIO.getUseCache()}); the setting is per JVM, so setting it on the
 * driver leaves a cluster's executors caching. sparkconv's own decoder reads from memory anyway ({@code ImageDecoder}).
 *
 * <p>Registered by {@code spark.plugins.defaultList} in {@code conf/defaults.properties}: Spark loads that list
 * together with {@code spark.plugins}, so a user's own plugins are kept. A session sparkconv did not build (a user's own
 * calling {@code sparkconv.ml}) gets {@link #onDriver} instead.
 */
public final class ImageIoPlugin implements SparkPlugin {
    /** The setting that registers this plugin in every session sparkconv builds ({@link SparkSessions}). */
    public static final String DEFAULT_LIST = "spark.plugins.defaultList";
    private static final Logger LOG = LoggerFactory.getLogger(ImageIoPlugin.class);
    private static final AtomicBoolean WARNED = new AtomicBoolean();

    /**
     * For {@code sparkconv.ml} reading the {@code image} source's column in a session it may not have built: the cache off
     * in this JVM, which is where a local master runs the tasks; on a cluster whose executors do not load this plugin,
     * one warning that says how to load it (the setting is read when an executor starts, so it cannot be set from here).
     */
    public static void onDriver(SparkContext sc) {
        ImageIO.setUseCache(false);
        if (!sc.isLocal() && !registered(sc.getConf()) && WARNED.compareAndSet(false, true)) {
            LOG.warn("the executors decode the image source with ImageIO's file cache on (a temporary file per image, ~1.4x the CPU): "
                    + "start the session with --conf spark.plugins={} (deploy/submit does), or read the files with binaryFile",
                    ImageIoPlugin.class.getName());
        }
    }

    /** Whether the executors of a session with this configuration load this plugin. */
    static boolean registered(SparkConf conf) {
        return Stream.of(conf.get("spark.plugins", ""), conf.get(DEFAULT_LIST, "")).flatMap(v -> Arrays.stream(v.split(",")))
                .map(String::trim).anyMatch(ImageIoPlugin.class.getName()::equals);
    }

    @Override
    public DriverPlugin driverPlugin() {
        return new DriverPlugin() {
            @Override
            public Map<String, String> init(SparkContext sc, PluginContext context) {
                ImageIO.setUseCache(false);
                return Map.of();
            }
        };
    }

    @Override
    public ExecutorPlugin executorPlugin() {
        return new ExecutorPlugin() {
            @Override
            public void init(PluginContext context, Map<String, String> extraConf) {
                ImageIO.setUseCache(false);
            }
        };
    }
}
