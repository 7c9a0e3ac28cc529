package sparkconv.train;

import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;

import sparkconv.SparkconvException;
import sparkconv.spark.Fs;
import sparkconv.spark.StagedCommit;
import sparkconv.store.FileDigests;
import sparkconv.store.ModelStore;
import sparkconv.store.StoreModes;

/**
 * Per-epoch checkpoints of one run: {@code <store>/checkpoints/<run>/epoch-NNNN/{model.zip, checkpoint.json, _SUCCESS}}.
 * The model zip holds the parameters and the updater state (momentum, Adam moments); checkpoint.json the epoch,
 * seed, history and early-stopping state. The data position is the epoch boundary: the per-epoch shard order is
 * replayed from the seed. Each checkpoint is committed by {@link StagedCommit} (staged, then renamed into place), so
 * the last directory with {@code _SUCCESS} is always complete; older ones are pruned except the best epoch's (early
 * stopping returns it). checkpoint.json also records the model zip's sha256 ({@link FileDigests}), which loading
 * checks, so a resumed run never continues from a swapped model; checkpoints are private to the writer and its group
 * ({@link StoreModes}).
 */
public final class Checkpoints {
    public static final String DIR = "checkpoints";
    public static final String MODEL = "model.zip";
    public static final String STATE = "checkpoint.json";
    /** The outer momentum's velocity, when the averaging policy has one: a count, then big-endian floats. */
    public static final String VELOCITY = "outer-velocity.bin";
    private static final Pattern EPOCH = Pattern.compile("epoch-(\\d+)");
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final Path runDir;
    private final Configuration conf;

    /**
     * What a checkpoint records besides the model (and its checksums, which {@link #load} reads). {@code bestEpoch} 0:
     * no validation-based best yet.
     */
    @JsonIgnoreProperties(FileDigests.KEY)
    public record State(String run, String model, long seed, int epoch, List<EpochStats> history, int bestEpoch,
                        double bestValidationAccuracy) {
        /** Why a run under {@code options} cannot continue from this checkpoint, or null if it can. */
        public String mismatch(TrainOptions options) {
            return model.equals(options.model()) && seed == options.hyper().seed() ? null
                    : "the checkpoint is of model " + model + " with seed " + seed + ", not " + options.model() + " with seed "
                    + options.hyper().seed();
        }
    }

    public Checkpoints(String storeUri, String run, Configuration conf) {
        this.runDir = new Path(Fs.child(storeUri, DIR), run);
        this.conf = conf;
    }

    /** The checkpoints of the run that trains {@code name} {@code version} into {@code store}. */
    public static Checkpoints of(ModelStore store, String name, String version, Configuration conf) {
        return new Checkpoints(store.root(), name + "-" + version, conf);
    }

    public Path runDir() {
        return runDir;
    }

    public void save(State state, Model net) {
        save(state, net, null);
    }

    /**
     * With the averaging policy's outer velocity ({@link OuterMomentum}; null: none), which a resumed run continues
     * from as it continues from the updater state.
     */
    public void save(State state, Model net, float[] velocity) {
        Path target = epochDir(state.epoch());
        StagedCommit.commit(target, conf, true, "checkpoint", staging -> {
            StoreModes.mkdirs(staging, conf);
            try (OutputStream out = Fs.create(new Path(staging, MODEL), false, conf)) {
                ModelSerializer.writeModel(net, out, true);
            }
            if (velocity != null) {
                try (java.io.DataOutputStream out = new java.io.DataOutputStream(new java.io.BufferedOutputStream(
                        Fs.create(new Path(staging, VELOCITY), false, conf)))) {
                    out.writeInt(velocity.length);
                    for (float v : velocity) {
                        out.writeFloat(v);
                    }
                }
            }
            ObjectNode json = JSON.valueToTree(state);
            json.putPOJO(FileDigests.KEY, FileDigests.compute(staging, STATE, conf));
            Fs.writeString(new Path(staging, STATE), JSON.writeValueAsString(json), conf);
            StoreModes.restrict(staging, conf);
            return null;
        });
        try {
            FileSystem fs = Fs.fs(runDir, conf);
            for (int epoch : completeEpochs()) {
                if (epoch != state.epoch() && epoch != state.bestEpoch()) {
                    fs.delete(epochDir(epoch), true);
                }
            }
        } catch (IOException e) {
            throw new SparkconvException(target + ": could not write checkpoint: " + e.getMessage(), e);
        }
    }

    /** The last complete checkpoint, if any. */
    public Optional<State> latest() {
        List<Integer> epochs = completeEpochs();
        if (epochs.isEmpty()) {
            return Optional.empty();
        }
        Path p = new Path(epochDir(epochs.get(epochs.size() - 1)), STATE);
        try {
            return Optional.of(JSON.readValue(Fs.readString(p, conf), State.class));
        } catch (JsonProcessingException e) {
            throw new SparkconvException(p + ": not a valid checkpoint: " + e.getOriginalMessage());
        }
    }

    /** The model of a checkpointed epoch, with its updater state, its zip checked against checkpoint.json first. */
    public <M extends Model> M load(int epoch, Class<M> type) {
        return type.cast(digests(epoch).load(MODEL, conf, zip -> ComputationGraph.class.isAssignableFrom(type)
                ? ModelSerializer.restoreComputationGraph(zip, true)
                : ModelSerializer.restoreMultiLayerNetwork(zip, true)));
    }

    /** The checksums a checkpointed epoch's checkpoint.json recorded for its files. */
    private FileDigests digests(int epoch) {
        Path dir = epochDir(epoch);
        Path state = new Path(dir, STATE);
        Map<?, ?> json;
        try {
            json = JSON.readValue(Fs.readString(state, conf), Map.class);
        } catch (JsonProcessingException e) {
            throw new SparkconvException(state + ": not a valid checkpoint: " + e.getOriginalMessage());
        }
        return FileDigests.of(dir, STATE, "checkpoint epoch " + epoch + " of " + runDir.getName(), json);
    }

    /** The outer velocity a checkpointed epoch saved (checked against checkpoint.json), or null if it saved none. */
    public float[] velocity(int epoch) {
        Path dir = epochDir(epoch);
        if (!Fs.exists(new Path(dir, VELOCITY), conf)) {
            return null;
        }
        return digests(epoch).load(VELOCITY, conf, file -> {
            try (java.io.DataInputStream in = new java.io.DataInputStream(new java.io.BufferedInputStream(
                    java.nio.file.Files.newInputStream(file.toPath())))) {
                float[] velocity = new float[in.readInt()];
                for (int i = 0; i < velocity.length; i++) {
                    velocity[i] = in.readFloat();
                }
                return velocity;
            }
        });
    }

    /** Removes the run's checkpoints (after its model was published). */
    public void delete() {
        if (Fs.exists(runDir, conf)) {
            Fs.delete(runDir, conf);
        }
    }

    List<Integer> completeEpochs() {
        List<Integer> out = new ArrayList<>();
        try {
            FileSystem fs = Fs.fs(runDir, conf);
            if (!fs.exists(runDir)) {
                return out;
            }
            for (FileStatus s : fs.listStatus(runDir)) {
                Matcher m = EPOCH.matcher(s.getPath().getName());
                if (s.isDirectory() && m.matches() && StagedCommit.isComplete(s.getPath(), conf)) {
                    out.add(Integer.parseInt(m.group(1)));
                }
            }
        } catch (IOException e) {
            throw new SparkconvException(runDir + ": cannot list checkpoints: " + e.getMessage(), e);
        }
        out.sort(null);
        return out;
    }

    private Path epochDir(int epoch) {
        return new Path(runDir, String.format("epoch-%04d", epoch));
    }
}
