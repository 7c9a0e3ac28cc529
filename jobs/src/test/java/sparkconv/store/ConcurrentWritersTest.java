package sparkconv.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import sparkconv.LocalSpark;
import sparkconv.SparkconvException;
import sparkconv.TestData;
import sparkconv.data.IdxDataset;
import sparkconv.models.Hyper;
import sparkconv.models.ModelZoo;
import sparkconv.preprocess.IdxPreprocess;
import sparkconv.spark.Fs;
import sparkconv.train.TrainOptions;
import sparkconv.train.TrainingRun;

/**
 * Concurrent writers of one model: racing {@code promote --if-better} calls always leave best.json on the best
 * candidate, version claims never hand one version to two runs, stale claims and locks of killed holders are broken,
 * and two real training runs of the same model name publish distinct versions.
 */
public class ConcurrentWritersTest {
    @TempDir
    Path dir;

    /** Versions v1..vN of model {@code m} whose test accuracies are 0.50, 0.51, ... (a tiny untrained network). */
    static ModelStore storeWithVersions(String root, Configuration conf, int n) {
        ModelStore store = new ModelStore(root, conf);
        MultiLayerNetwork net = new MultiLayerNetwork(ModelZoo.build("seed-trace", new ModelZoo.Input(1, 28, 28), 10,
                new Hyper("sgd", 0.01, 0, 0, 1)));
        net.init();
        for (int i = 1; i <= n; i++) {
            store.publish("m", "v" + i, net, Map.of(), Map.of("test", Map.of("accuracy", 0.49 + i / 100.0)));
        }
        return store;
    }

    /**
     * Rounds of N threads released together, each promoting a different version with --if-better from a best of v1:
     * after every round best.json must name vN, the best candidate (without the lock, a slower promoter of a worse
     * version that read the old best overwrites the better one). Returns the rounds run.
     */
    static int racePromoters(ModelStore store, Configuration conf, int versions, int rounds) throws Exception {
        Promotion promotion = new Promotion(store, conf);
        ExecutorService pool = Executors.newFixedThreadPool(versions - 1);
        try {
            for (int round = 0; round < rounds; round++) {
                promotion.promote("m", "v1", null);
                CyclicBarrier start = new CyclicBarrier(versions - 1);
                List<Future<Promotion.Decision>> done = new ArrayList<>();
                for (int i = 2; i <= versions; i++) {
                    String v = "v" + i;
                    done.add(pool.submit(() -> {
                        start.await();
                        return promotion.promote("m", v, "accuracy");
                    }));
                }
                for (Future<Promotion.Decision> f : done) {
                    f.get();
                }
                assertEquals("v" + versions, promotion.best("m").orElseThrow().version(), "round " + round);
            }
        } finally {
            pool.shutdownNow();
        }
        return rounds;
    }

    @Test
    void racingPromotersLeaveTheBestVersionOnLocalFiles() throws Exception {
        Configuration conf = new Configuration();
        ModelStore store = storeWithVersions(dir.resolve("store").toString(), conf, 6);
        racePromoters(store, conf, 6, 12);
        try (var files = Files.list(dir.resolve("store/models/m"))) {
            List<String> names = files.map(p -> p.getFileName().toString()).sorted().toList();
            assertEquals(List.of("best.json", "v1", "v2", "v3", "v4", "v5", "v6"),
                    names.stream().filter(n -> !n.startsWith(".") || n.startsWith(".best.json")).filter(n -> !n.endsWith(".crc")).toList(),
                    "no lock or temporary pointer left: " + names);
        }
    }

    /**
     * A real promoter process (models promote) paused while it holds the store's lock ({@link sparkconv.spark.FaultPoint})
     * and killed with SIGKILL leaves its lock behind; the next promoter (locks stale after 3 s) breaks it once stale and
     * promotes. A live holder is waited for instead.
     */
    @Test
    void aKilledPromotersLockIsBrokenOnceStaleAndALiveOneIsWaitedFor() throws Exception {
        Configuration conf = new Configuration();
        conf.set(Promotion.LOCK_STALE_SECONDS, "3");
        ModelStore store = storeWithVersions(dir.resolve("store").toString(), conf, 2);
        Promotion promotion = new Promotion(store, conf);
        org.apache.hadoop.fs.Path lock = new org.apache.hadoop.fs.Path(store.modelDir("m"), ".best.json.lock");

        Path pause = Files.createDirectories(dir.resolve("pause"));
        ProcessBuilder promoter = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
                "-cp", System.getProperty("java.class.path"), "sparkconv.cli.Main", "models", "promote",
                "--store", dir.resolve("store").toString(), "--name", "m", "--version", "v2")
                .redirectErrorStream(true).redirectOutput(dir.resolve("promoter.log").toFile());
        promoter.environment().put("SPARKCONV_FAULT_PAUSE_DIR", pause.toString());
        promoter.environment().put("SPARKCONV_FAULT_PAUSE_AT", "1");
        Process killed = promoter.start();
        String held;
        try {
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (!Files.exists(pause.resolve("paused"))) {
                assertTrue(killed.isAlive() && System.nanoTime() < deadline,
                        "the promoter pauses holding the lock: " + Files.readString(dir.resolve("promoter.log")));
                Thread.sleep(100);
            }
            held = new String(Fs.readBytes(lock, conf), java.nio.charset.StandardCharsets.UTF_8);
        } finally {
            killed.destroyForcibly(); // SIGKILL
        }
        assertEquals(137, killed.waitFor(), "killed by SIGKILL");
        assertTrue(held.contains("promoting m v2") && held.contains(killed.pid() + "@"), "the lock was the killed promoter's: " + held);
        assertTrue(promotion.promote("m", "v1", "accuracy").promoted());
        assertFalse(lock.getFileSystem(conf).exists(lock), "the stale lock was broken and ours released");
        assertEquals("v1", promotion.best("m").orElseThrow().version(), "the killed promotion never landed");

        // a live holder: the promoter waits for it instead of breaking it
        Claim live = Claim.tryCreate(lock, "promoting m v1", conf).orElseThrow();
        Future<Promotion.Decision> waiting = Executors.newSingleThreadExecutor().submit(() -> promotion.promote("m", "v2", "accuracy"));
        Thread.sleep(700);
        assertFalse(waiting.isDone(), "waits while the lock is held");
        live.close();
        assertTrue(waiting.get().promoted());
        assertEquals("v2", promotion.best("m").orElseThrow().version());
    }

    @Test
    void versionClaimsAreExclusiveAndStaleOnesAreBroken() throws Exception {
        Configuration conf = new Configuration();
        ModelStore store = storeWithVersions(dir.resolve("store").toString(), conf, 2);
        int racers = 6;
        CyclicBarrier start = new CyclicBarrier(racers);
        ExecutorService pool = Executors.newFixedThreadPool(racers);
        List<Future<ModelStore.VersionClaim>> claims = new ArrayList<>();
        for (int i = 0; i < racers; i++) {
            claims.add(pool.submit((Callable<ModelStore.VersionClaim>) () -> {
                start.await();
                return store.claimVersion("m", null, false);
            }));
        }
        List<String> versions = new ArrayList<>();
        for (Future<ModelStore.VersionClaim> c : claims) {
            versions.add(c.get().version());
        }
        pool.shutdownNow();
        assertEquals(List.of("v3", "v4", "v5", "v6", "v7", "v8"), versions.stream().sorted().toList(), "distinct versions");

        // a requested version held by a live run is refused; once that run is killed (its claim stale) it is taken over
        SparkconvException held = assertThrows(SparkconvException.class, () -> store.claimVersion("m", "v3", false));
        assertTrue(held.getMessage().contains("m v3 is being trained by training m v3"), held.getMessage());
        ModelStore.VersionClaim v3 = claims.stream().map(ConcurrentWritersTest::get).filter(c -> c.version().equals("v3")).findFirst().orElseThrow();
        v3.close();
        for (Future<ModelStore.VersionClaim> c : claims) {
            get(c).close();
        }
        killedHolderReleasesItsClaimOnceStale(store.root(), dir.resolve("holder.log"));

        org.apache.hadoop.fs.Path file = new org.apache.hadoop.fs.Path(store.modelDir("m"), ".claim-v3");
        // --resume takes over a claim that still looks live (the driver was killed moments ago)
        Claim.tryCreate(file, "training m v3", conf).orElseThrow();
        try (ModelStore.VersionClaim resumed = store.claimVersion("m", null, true)) {
            assertEquals("v3", resumed.version());
        }
        assertFalse(file.getFileSystem(conf).exists(file), "released");
    }

    /**
     * A training run's claim held by a real process (claims stale after 3 s, its heartbeat every 0.5 s): while it lives,
     * its claim outlasts the stale period; killed with SIGKILL (no shutdown hook, no release), its claim goes stale and
     * the next run takes the version over.
     */
    static void killedHolderReleasesItsClaimOnceStale(String storeUri, Path log) throws Exception {
        Configuration conf = new Configuration();
        conf.set(ModelStore.CLAIM_STALE_SECONDS, "3");
        ModelStore store = new ModelStore(storeUri, conf);
        Process holder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
                "-cp", System.getProperty("java.class.path"), ClaimHolder.class.getName(), storeUri, "m", "v3", "3")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (!Files.readString(log).contains("claimed v3")) {
                assertTrue(holder.isAlive() && System.nanoTime() < deadline, "the holder claims v3: " + Files.readString(log));
                Thread.sleep(100);
            }
            long claimed = System.nanoTime();
            while (System.nanoTime() - claimed < 6_000_000_000L) { // twice the stale period
                SparkconvException held = assertThrows(SparkconvException.class, () -> store.claimVersion("m", "v3", false));
                assertTrue(held.getMessage().contains("is being trained by training m v3 by " + holder.pid() + "@"), held.getMessage());
                Thread.sleep(500);
            }
        } finally {
            holder.destroyForcibly(); // SIGKILL
        }
        assertEquals(137, holder.waitFor(), "killed by SIGKILL");
        long killed = System.nanoTime();
        ModelStore.VersionClaim taken = null;
        while (taken == null) {
            try {
                taken = store.claimVersion("m", "v3", false);
            } catch (SparkconvException stillFresh) {
                assertTrue(System.nanoTime() - killed < 10_000_000_000L, "the killed holder's claim is stale 3 s after its last beat");
                Thread.sleep(200);
            }
        }
        try (ModelStore.VersionClaim next = taken) {
            assertEquals("v3", next.version(), "the killed run's version is taken over");
        }
    }

    private static <T> T get(Future<T> f) {
        try {
            return f.get();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void twoTrainingRunsOfOneModelPublishDistinctVersions() throws Exception {
        SparkSession spark = LocalSpark.get();
        String shards = dir.resolve("shards").toString();
        IdxPreprocess.idx(spark, TestData.fashionMnist().toString(), "fashion-mnist", IdxDataset.FASHION_CLASSES, shards,
                32, 64, 320, false);
        String store = dir.resolve("store").toString();
        TrainOptions options = TrainOptions.builder("seed-trace", new Hyper("nesterovs", 0.02, 0.9, 1e-4, 5))
                .workers(1).averagingFrequency(2).prefetch(1).build();
        CyclicBarrier start = new CyclicBarrier(2);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        List<Future<TrainingRun.Outcome>> runs = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            runs.add(pool.submit(() -> {
                start.await();
                return TrainingRun.run(spark, shards, options, store, "fm", null, line -> { });
            }));
        }
        String a = runs.get(0).get().version().version();
        String b = runs.get(1).get().version().version();
        pool.shutdownNow();
        assertNotEquals(a, b);
        ModelStore s = new ModelStore(store, spark.sparkContext().hadoopConfiguration());
        assertEquals(List.of("v1", "v2"), s.versionNames("fm"));
        try (var files = Files.list(dir.resolve("store/models/fm"))) {
            assertEquals(List.of("v1", "v2"), files.map(p -> p.getFileName().toString()).filter(n -> !n.endsWith(".crc")).sorted().toList(),
                    "no claim or staging left");
        }
        assertFalse(Files.exists(dir.resolve("store/checkpoints/fm-v1")) || Files.exists(dir.resolve("store/checkpoints/fm-v2")),
                "both runs removed their own checkpoints");
    }
}
