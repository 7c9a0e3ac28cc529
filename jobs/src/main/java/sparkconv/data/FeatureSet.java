package sparkconv.data;

import java.io.Serializable;
import java.util.Arrays;
import java.util.List;

import sparkconv.SparkconvException;

/**
 * Labelled real-valued examples, channel-first (N, C, H, W): the float counterpart of {@link ImageSet} for inputs
 * that are not pixels (return tensors), consumed by {@link sparkconv.shards.ShardWriter#writeFeatures}.
 */
public record FeatureSet(int channels, int height, int width, List<String> classNames, float[] features, int[] labels,
                         List<ImageSet.SourceFile> sources) implements Serializable {

    public FeatureSet {
        long expected = (long) labels.length * channels * height * width;
        if (features.length != expected) {
            throw new SparkconvException("feature data holds " + features.length + " values, expected " + expected
                    + " for " + labels.length + " examples of " + channels + "x" + height + "x" + width);
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= classNames.size()) {
                throw new SparkconvException("label " + labels[i] + " of example " + i + " is outside 0.." + (classNames.size() - 1));
            }
        }
    }

    public int size() {
        return labels.length;
    }

    public int exampleValues() {
        return channels * height * width;
    }

    /** Examples [from, to) as a new set sharing class names and sources. */
    public FeatureSet slice(int from, int to) {
        return new FeatureSet(channels, height, width, classNames,
                Arrays.copyOfRange(features, from * exampleValues(), to * exampleValues()), Arrays.copyOfRange(labels, from, to), sources);
    }
}
