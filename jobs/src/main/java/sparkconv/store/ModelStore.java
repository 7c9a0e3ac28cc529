package sparkconv.store;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;

import sparkconv.SparkconvException;
import sparkconv.spark.Fs;
import sparkconv.spark.StagedCommit;

/**
 * Versioned models on any Hadoop FileSystem:
 * {@code <store>/models/<name>/<version>/{model.zip, metadata.json, metrics.json, _SUCCESS}}.
 * A version is written under a hidden staging name and renamed into place with a no-overwrite rename, so a reader
 * either sees a complete version or none, and two writers can never publish the same version. A training run claims
 * its version when it starts (the hidden file {@code .claim-<version>}, created exclusively and kept fresh while the
 * run lives), so concurrent runs of one model train and publish distinct versions.
 */
public final class ModelStore {
    public static final String MODEL = "model.zip";
    public static final String METADATA = "metadata.json";
    public static final String METRICS = "metrics.json";
    private static final Pattern VERSION = Pattern.compile("v(\\d+)");
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    /**
     * A claim not touched for this long belongs to a run that was killed; live runs touch theirs six times as often
     * (every 20 s at the default 2 minutes). The Hadoop setting {@value #CLAIM_STALE_SECONDS} (seconds) changes it.
     */
    static final Duration CLAIM_STALE_AFTER = Duration.ofMinutes(2);
    static final String CLAIM_STALE_SECONDS = "sparkconv.store.claim-stale-seconds";

    private final String root;
    private final Configuration conf;
    private final Duration claimStaleAfter;

    public ModelStore(String storeUri, Configuration conf) {
        this.root = Fs.uri(storeUri);
        this.conf = conf;
        this.claimStaleAfter = Duration.ofSeconds(conf.getLong(CLAIM_STALE_SECONDS, CLAIM_STALE_AFTER.toSeconds()));
        if (claimStaleAfter.toSeconds() < 1) {
            throw new SparkconvException(CLAIM_STALE_SECONDS + " must be at least 1 second, got " + claimStaleAfter.toSeconds());
        }
    }

    public String root() {
        return root;
    }

    /** A stored version: where it is and what its metadata / metrics say. */
    public record Version(String name, String version, String uri, Map<String, Object> metadata, Map<String, Object> metrics) {
        /** The checksums of the version's files that its metadata.json records. */
        public FileDigests digests() {
            return FileDigests.of(new Path(uri), METADATA, name + " " + version, metadata);
        }

        /** Fails with one clear line if data of this shape and class count cannot go through the model. */
        public void requireFits(String data, int channels, int height, int width, int numClasses) {
            Object input = metadata.get("input");
            Object classes = metadata.get("classes");
            if (input instanceof Map<?, ?> in) {
                String model = in.get("height") + "x" + in.get("width") + "x" + in.get("channels");
                String given = height + "x" + width + "x" + channels;
                if (!model.equals(given)) {
                    throw new SparkconvException(data + ": images are " + given + " but " + name + " " + version + " takes " + model);
                }
            }
            if (classes instanceof List<?> c && c.size() != numClasses) {
                throw new SparkconvException(data + ": " + numClasses + " classes but " + name + " " + version + " predicts " + c.size());
            }
        }
    }

    public Path modelDir(String name) {
        checkName(name);
        return new Path(Fs.path(root), "models/" + name);
    }

    /** Next free version of {@code name}: v1, v2, ... */
    public String nextVersion(String name) {
        int max = 0;
        for (String v : versionNames(name)) {
            var m = VERSION.matcher(v);
            if (m.matches()) {
                max = Math.max(max, Integer.parseInt(m.group(1)));
            }
        }
        return "v" + (max + 1);
    }

    /** The version a run holds from its start until it publishes (or fails); closing releases it. */
    public static final class VersionClaim implements AutoCloseable {
        private final String version;
        private final Claim claim;

        private VersionClaim(String version, Claim claim) {
            this.version = version;
            this.claim = claim;
        }

        public String version() {
            return version;
        }

        @Override
        public void close() {
            claim.close();
        }
    }

    /**
     * Claims the version a new run will publish. {@code requested}: that version, refused if it is published or
     * another live run holds it. Otherwise the next free vN, skipping versions live runs hold. {@code resume}: the
     * run continues an earlier one that was killed, so it takes over that run's claim (of {@code requested}, or of the
     * next unpublished version) instead of skipping it. A claim whose holder was killed goes stale and is broken.
     */
    public VersionClaim claimVersion(String name, String requested, boolean resume) {
        if (requested != null) {
            checkName(requested);
        }
        int n = versionNumber(nextVersion(name));
        StoreModes.mkdirs(modelDir(name), conf);
        while (true) {
            String v = requested != null ? requested : "v" + n;
            if (versionNames(name).contains(v)) {
                if (requested != null) {
                    throw new SparkconvException(modelDir(name) + "/" + v + ": the store already holds " + name + " " + v);
                }
                n++;
                continue;
            }
            Path file = new Path(modelDir(name), ".claim-" + v);
            String purpose = "training " + name + " " + v;
            if (resume) {
                // the killed run's claim is this run's now
                Fs.delete(file, conf);
            }
            Optional<Claim> claim = Claim.tryCreate(file, purpose, conf);
            if (claim.isEmpty() && Claim.breakIfStale(file, claimStaleAfter, conf)) {
                claim = Claim.tryCreate(file, purpose, conf);
            }
            if (claim.isPresent()) {
                if (versionNames(name).contains(v)) {
                    // published between the check above and the claim: that run has just released it
                    claim.get().close();
                    continue;
                }
                claim.get().keepFresh(claimStaleAfter.dividedBy(6));
                return new VersionClaim(v, claim.get());
            }
            if (requested != null || resume) {
                throw new SparkconvException(file + ": " + name + " " + v + " is being trained by "
                        + Claim.holder(file, conf) + " (pass another --version, or wait for it)");
            }
            n++;
        }
    }

    /**
     * Publishes a model version atomically. Fails with a clear message if the version already exists; nothing
     * is left behind on failure. The metadata written records the sha256 of the version's other files
     * ({@link FileDigests}), and the version's directories and files are private to the writer and its group
     * ({@link StoreModes}) before it is moved into place.
     */
    public Version publish(String name, String version, Model net, Map<String, Object> metadata,
                           Map<String, Object> metrics) {
        checkName(name);
        checkName(version);
        Path dir = modelDir(name);
        Path target = new Path(dir, version);
        if (Fs.exists(target, conf)) {
            throw new SparkconvException(target + ": the store already holds " + name + " " + version);
        }
        try {
            StagedCommit.commit(target, conf, false, "model version", staging -> {
                StoreModes.mkdirs(staging, conf);
                try (OutputStream out = Fs.create(new Path(staging, MODEL), false, conf)) {
                    ModelSerializer.writeModel(net, out, true);
                }
                Fs.writeString(new Path(staging, METRICS), json(metrics), conf);
                Map<String, Object> sealed = new LinkedHashMap<>(metadata);
                sealed.put(FileDigests.KEY, FileDigests.compute(staging, METADATA, conf));
                Fs.writeString(new Path(staging, METADATA), json(sealed), conf);
                StoreModes.restrict(staging, conf);
                return null;
            });
        } catch (StagedCommit.TargetExists e) {
            throw new SparkconvException(target + ": the store already holds " + name + " " + version);
        }
        return get(name, version);
    }

    /** Complete versions of {@code name}, oldest first (staging directories and incomplete versions are skipped). */
    public List<String> versionNames(String name) {
        Path dir = modelDir(name);
        List<String> out = new ArrayList<>();
        try {
            FileSystem fs = Fs.fs(dir, conf);
            if (!fs.exists(dir)) {
                return out;
            }
            for (FileStatus s : fs.listStatus(dir)) {
                String v = s.getPath().getName();
                if (s.isDirectory() && !v.startsWith(".") && fs.exists(new Path(s.getPath(), StagedCommit.SUCCESS))) {
                    out.add(v);
                }
            }
        } catch (IOException e) {
            throw new SparkconvException(dir + ": cannot list model versions: " + e.getMessage(), e);
        }
        out.sort(Comparator.comparingInt(ModelStore::versionNumber).thenComparing(Comparator.naturalOrder()));
        return out;
    }

    public List<String> modelNames() {
        Path dir = new Path(Fs.path(root), "models");
        List<String> out = new ArrayList<>();
        try {
            FileSystem fs = Fs.fs(dir, conf);
            if (fs.exists(dir)) {
                for (FileStatus s : fs.listStatus(dir)) {
                    if (s.isDirectory() && !s.getPath().getName().startsWith(".")) {
                        out.add(s.getPath().getName());
                    }
                }
            }
        } catch (IOException e) {
            throw new SparkconvException(dir + ": cannot list models: " + e.getMessage(), e);
        }
        out.sort(Comparator.naturalOrder());
        return out;
    }

    /** A version; {@code latest} resolves to the newest complete version, {@code best} to the promoted one. */
    public Version get(String name, String version) {
        String v = resolve(name, version);
        Path dir = new Path(modelDir(name), v);
        Map<String, Object> metadata = readJson(new Path(dir, METADATA));
        return new Version(name, v, dir.toString(), metadata, metrics(new Version(name, v, dir.toString(), metadata, Map.of()).digests()));
    }

    /** A version's metrics.json, checked (it decides promotions); none when a version has none. */
    private Map<String, Object> metrics(FileDigests digests) {
        Path p = new Path(digests.dir(), METRICS);
        boolean recorded = digests.sha256() != null && digests.sha256().containsKey(METRICS);
        return recorded || Fs.exists(p, conf) ? parseJson(p, new String(digests.read(METRICS, conf), StandardCharsets.UTF_8)) : Map.of();
    }

    /** The network of a version, its model.zip checked against metadata.json first. */
    public MultiLayerNetwork load(String name, String version) {
        return get(name, version).digests().load(MODEL, conf, zip -> ModelSerializer.restoreMultiLayerNetwork(zip, false));
    }

    /** A segmentation model (ComputationGraph) version, checked as {@link #load} checks. */
    public ComputationGraph loadGraph(String name, String version) {
        return get(name, version).digests().load(MODEL, conf, zip -> ModelSerializer.restoreComputationGraph(zip, false));
    }

    String resolve(String name, String version) {
        List<String> versions = versionNames(name);
        if (versions.isEmpty()) {
            throw new SparkconvException(modelDir(name) + ": no stored versions of model '" + name + "'");
        }
        if (version == null || version.equals("latest")) {
            return versions.get(versions.size() - 1);
        }
        if (version.equals("best")) {
            return new Promotion(this, conf).best(name).map(Promotion.Best::version).orElseThrow(() ->
                    new SparkconvException(modelDir(name) + ": no best version yet (run models promote)"));
        }
        if (!versions.contains(version)) {
            throw new SparkconvException(modelDir(name) + ": no complete version '" + version + "' (have " + versions + ")");
        }
        return version;
    }

    private Map<String, Object> readJson(Path p) {
        return Fs.exists(p, conf) ? parseJson(p, Fs.readString(p, conf)) : Map.of();
    }

    private static Map<String, Object> parseJson(Path p, String text) {
        try {
            @SuppressWarnings("unchecked")
            Map<String, Object> m = JSON.readValue(text, Map.class);
            return m;
        } catch (JsonProcessingException e) {
            throw new SparkconvException(p + ": not valid JSON: " + e.getOriginalMessage());
        }
    }

    static String json(Object o) {
        try {
            return JSON.writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static int versionNumber(String v) {
        var m = VERSION.matcher(v);
        return m.matches() ? Integer.parseInt(m.group(1)) : Integer.MAX_VALUE;
    }

    private static void checkName(String n) {
        if (n == null || !NAME.matcher(n).matches()) {
            throw new SparkconvException("invalid model or version name '" + n + "' (letters, digits, . _ - only)");
        }
    }

}
