package sparkconv.spark;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import javax.imageio.ImageIO;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.api.plugin.DriverPlugin;
import org.apache.spark.api.plugin.ExecutorPlugin;
import org.apache.spark.api.plugin.PluginContext;
import org.apache.spark.api.plugin.SparkPlugin;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ImageIoPluginTest {
    @TempDir
    Path dir;

    /** A user's spark.plugins is left as it is; a defaultList set elsewhere keeps its entries and gains sparkconv's. */
    @Test
    void sessionsKeepAUsersPluginsAndAddTheirOwnToTheDefaultList() {
        SparkConf conf = SparkSessions.conf(Map.of("spark.plugins", "com.example.Mine", ImageIoPlugin.DEFAULT_LIST, "com.example.Admins"));
        assertEquals("com.example.Mine", conf.get("spark.plugins"));
        assertEquals("com.example.Admins,sparkconv.spark.ImageIoPlugin", conf.get(ImageIoPlugin.DEFAULT_LIST));
        assertEquals("sparkconv.spark.ImageIoPlugin", SparkSessions.conf(Map.of()).get(ImageIoPlugin.DEFAULT_LIST));
        assertTrue(ImageIoPlugin.registered(conf));
        assertFalse(ImageIoPlugin.registered(new SparkConf(false).set("spark.plugins", "com.example.Mine")));
    }

    /**
     * In a JVM of its own (ImageIO caches by default, and nothing else in it turns that off), a session from
     * {@link SparkSessions} with a user's own plugin in spark.plugins: the tasks that read Spark's image source find
     * ImageIO's cache off, and the user's plugin loaded too.
     */
    @Test
    void theImageSourceIsReadWithoutImageIoCacheInEveryTask() throws Exception {
        for (int i = 0; i < 6; i++) {
            BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
            img.getRaster().setSample(i, i, 0, 255);
            ImageIO.write(img, "png", dir.resolve("img-" + i + ".png").toFile());
        }
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of(java, "-Xmx1g"));
        command.addAll(List.of(JvmFlags.flags().trim().split("\\s+")));
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), Check.class.getName(), dir.toString()));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), output);
        List<String> tasks = output.lines().filter(l -> l.startsWith("task: ")).toList();
        assertFalse(tasks.isEmpty(), output);
        assertEquals(6, tasks.stream().mapToInt(l -> Integer.parseInt(l.replaceAll(".* (\\d+) images$", "$1"))).sum(), output);
        tasks.forEach(l -> assertTrue(l.startsWith("task: ImageIO cache false, user plugin loaded, "), l));
    }

    /** The JVM of {@link #theImageSourceIsReadWithoutImageIoCacheInEveryTask}: a line per task. */
    public static final class Check {
        public static void main(String[] args) {
            SparkSession spark = SparkSessions.getOrCreate(Map.of("spark.master", "local[2]", "spark.ui.enabled", "false",
                    "spark.plugins", UserPlugin.class.getName()));
            MapPartitionsFunction<Row, String> task = rows -> {
                int n = 0;
                for (; rows.hasNext(); rows.next()) {
                    n++; // each row is decoded here, by the image source's ImageIO.read
                }
                return List.of(String.format("task: ImageIO cache %s, user plugin %s, %d images", ImageIO.getUseCache(),
                        System.getProperty(UserPlugin.PROPERTY), n)).iterator();
            };
            spark.read().format("image").load(args[0]).mapPartitions(task, Encoders.STRING()).collectAsList()
                    .forEach(System.out::println);
            spark.stop();
        }
    }

    /** A user's own plugin, given in spark.plugins. */
    public static final class UserPlugin implements SparkPlugin {
        static final String PROPERTY = "sparkconv.test.userPlugin";

        @Override
        public DriverPlugin driverPlugin() {
            return null;
        }

        @Override
        public ExecutorPlugin executorPlugin() {
            return new ExecutorPlugin() {
                @Override
                public void init(PluginContext context, Map<String, String> extraConf) {
                    System.setProperty(PROPERTY, "loaded");
                }
            };
        }
    }
}
