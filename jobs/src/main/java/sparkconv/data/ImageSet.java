package sparkconv.data;

import java.io.Serializable;
import java.util.List;

import sparkconv.SparkconvException;

/**
 * Decoded labelled images held as unsigned bytes, channel-first (N, C, H, W): the common form every reader
 * (IDX, CIFAR, folders, archives) produces and {@link sparkconv.shards.ShardWriter} consumes.
 */
public record ImageSet(int channels, int height, int width, List<String> classNames, byte[] pixels, int[] labels,
                       List<SourceFile> sources) implements Serializable {

    public ImageSet {
        long expected = (long) labels.length * channels * height * width;
        if (pixels.length != expected) {
            throw new SparkconvException("image data holds " + pixels.length + " bytes, expected " + expected
                    + " for " + labels.length + " images of " + channels + "x" + height + "x" + width);
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= classNames.size()) {
                throw new SparkconvException("label " + labels[i] + " of image " + i + " is outside 0.." + (classNames.size() - 1));
            }
        }
    }

    public int size() {
        return labels.length;
    }

    public int imageBytes() {
        return channels * height * width;
    }

    /** Images [from, to) as a new set sharing class names and sources. */
    public ImageSet slice(int from, int to) {
        byte[] px = java.util.Arrays.copyOfRange(pixels, from * imageBytes(), to * imageBytes());
        return new ImageSet(channels, height, width, classNames, px, java.util.Arrays.copyOfRange(labels, from, to), sources);
    }

    /** A file an ImageSet was read from, for the manifest's lineage. */
    public record SourceFile(String uri, long bytes, String sha256) implements Serializable {
    }
}
