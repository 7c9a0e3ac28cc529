package sparkconv.shards;

import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

import org.apache.spark.api.java.JavaRDD;

import sparkconv.data.DecodedImage;
import sparkconv.spark.JobDescriptions;

/**
 * One pass over decoded images, as the first action on them (it also fills their cache): usable images per split, the
 * training split's pixel histogram (its normalisation), the class labels seen, and the quarantined ones by reason.
 */
public final class ImageStats implements Serializable {
    private final String[] splits; // an array: task results go through Kryo, which cannot rebuild List.of / copyOf
    final long[] splitCounts;
    final long[] trainHistogram = new long[256];
    final TreeSet<String> labels = new TreeSet<>();
    private final TreeMap<String, Long> quarantined = new TreeMap<>();
    /** Two 64-bit lanes: the sums, mod 2^64, of every image's SHA-256 prefix (see {@link #digest}). */
    private final long[] digest = new long[2];

    private ImageStats(List<String> splits) {
        if (!splits.get(0).equals("train")) {
            throw new IllegalArgumentException("the first split must be the training split, got " + splits);
        }
        this.splits = splits.toArray(String[]::new);
        this.splitCounts = new long[splits.size()];
    }

    /** @param splits the splits usable images may be in, the training split first */
    public static ImageStats of(JavaRDD<DecodedImage> images, List<String> splits) {
        return JobDescriptions.step(images.context(), "read and decode images, count them per split and class",
                () -> images.aggregate(new ImageStats(splits), ImageStats::add, ImageStats::merge));
    }

    private ImageStats add(DecodedImage d) {
        addToDigest(d);
        if (!d.ok()) {
            quarantined.merge(d.reason(), 1L, Long::sum);
            return this;
        }
        int split = splits().indexOf(d.split());
        if (split < 0) {
            throw new IllegalArgumentException(d.key() + ": split '" + d.split() + "' is not one of " + splits());
        }
        splitCounts[split]++;
        labels.add(d.label());
        if (split == 0) {
            for (byte b : d.pixels()) {
                trainHistogram[b & 0xff]++;
            }
        }
        return this;
    }

    private ImageStats merge(ImageStats other) {
        for (int s = 0; s < splitCounts.length; s++) {
            splitCounts[s] += other.splitCounts[s];
        }
        for (int v = 0; v < 256; v++) {
            trainHistogram[v] += other.trainHistogram[v];
        }
        labels.addAll(other.labels);
        other.quarantined.forEach((reason, n) -> quarantined.merge(reason, n, Long::sum));
        digest[0] += other.digest[0];
        digest[1] += other.digest[1];
        return this;
    }

    private void addToDigest(DecodedImage d) {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        for (String s : new String[]{d.key(), d.split(), d.label(), d.reason()}) {
            sha.update(String.valueOf(s).getBytes(StandardCharsets.UTF_8));
            sha.update((byte) 0);
        }
        if (d.pixels() != null) {
            sha.update(d.pixels());
        }
        ByteBuffer h = ByteBuffer.wrap(sha.digest());
        digest[0] += h.getLong();
        digest[1] += h.getLong();
    }

    /**
     * What the shards are made of, in 32 hex digits: a sum of one hash per image over its key (its place in the
     * order), split, label, quarantine reason and pixels. The same images with the same keys give the same digest
     * whatever the partitioning; another image, order, label or split gives another (a collision aside).
     */
    public String digest() {
        return String.format("%016x%016x", digest[0], digest[1]);
    }

    public List<String> splits() {
        return List.of(splits);
    }

    /** Usable images. */
    public long usable() {
        return Arrays.stream(splitCounts).sum();
    }

    /** Quarantined images by reason, sorted by reason. */
    public Map<String, Long> quarantined() {
        return quarantined;
    }
}
