package sparkconv.shards;

import java.io.Serializable;
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
        return this;
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
