package sparkconv.shards;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;

import org.apache.hadoop.conf.Configuration;
import scala.Tuple2;

import sparkconv.SparkconvException;

/**
 * Where every shard of a distributed write comes from, decided from split sizes alone: within a split, images sorted
 * by key are numbered 0, 1, ... and image {@code i} goes to shard {@code i / batchSize}, exactly as the in-memory
 * writer slices an {@code ImageSet}. Shards of all splits (in split order) are numbered globally and written by
 * {@link #partitions()} tasks of {@link #shardsPerPartition()} consecutive shards each, so no shard is split between
 * tasks.
 *
 * @param splitCounts images per split, in split order
 */
record ShardPlan(long[] splitCounts, int batchSize, long shardsPerPartition, int partitions) implements Serializable {

    static ShardPlan of(long[] splitCounts, int batchSize, long targetPartitions) {
        long shards = 0;
        for (long n : splitCounts) {
            shards += (n + batchSize - 1) / batchSize;
        }
        long wanted = Math.max(1, Math.min(targetPartitions, shards));
        long perPartition = (shards + wanted - 1) / wanted;
        return new ShardPlan(splitCounts, batchSize, perPartition, (int) Math.max(1, (shards + perPartition - 1) / perPartition));
    }

    /**
     * The key images are sorted by: split (by its position), then key, then path (two archives of one source may hold
     * the same entry name). Java's String order, as the in-memory path sorts keys.
     */
    static String sortKey(int split, String key, String path) {
        return (char) ('0' + split) + key + '\u0000' + path;
    }

    private long shardsOf(int split) {
        return (splitCounts[split] + batchSize - 1) / batchSize;
    }

    /** The rank, in sort order over all splits, of the first image the partition {@code p} writes. */
    long firstExample(int p) {
        long shard = p * shardsPerPartition;
        long examples = 0;
        for (int s = 0; s < splitCounts.length; s++) {
            if (shard < shardsOf(s)) {
                return examples + shard * batchSize;
            }
            shard -= shardsOf(s);
            examples += splitCounts[s];
        }
        throw new IllegalArgumentException("partition " + p + " is past the last shard");
    }

    /**
     * Writes the shards of partition {@code p} from its images, which arrive sorted by {@link #sortKey}: one shard's
     * pixels in memory at a time.
     */
    List<ShardWriter.WrittenShard> write(int p, Iterator<Tuple2<String, Tuple2<Integer, byte[]>>> images, String stagingUri,
                                         ShardWriter.Layout layout) {
        Configuration conf = new Configuration(); // one per task: each new one re-parses Hadoop's XML resources
        int imageBytes = layout.shape().channels() * layout.shape().height() * layout.shape().width();
        List<ShardWriter.WrittenShard> written = new ArrayList<>();
        int split = 0;
        long shard = p * shardsPerPartition;
        while (shard >= shardsOf(split)) {
            shard -= shardsOf(split++);
        }
        String previous = null;
        for (long n = 0; n < shardsPerPartition && split < splitCounts.length; n++) {
            int size = (int) Math.min(batchSize, splitCounts[split] - shard * batchSize);
            byte[] pixels = new byte[size * imageBytes];
            int[] labels = new int[size];
            for (int i = 0; i < size; i++) {
                if (!images.hasNext()) {
                    throw new IllegalStateException("partition " + p + " ran out of images in shard " + shard + " of split " + split);
                }
                Tuple2<String, Tuple2<Integer, byte[]>> image = images.next();
                if (image._1().charAt(0) != '0' + split) {
                    throw new IllegalStateException("partition " + p + ": image " + image._1().substring(1) + " is not in split " + split);
                }
                if (image._1().equals(previous)) {
                    throw new SparkconvException(image._1().substring(1).replace('\u0000', ' ')
                            + ": two inputs with the same name and path; shards would depend on the order they are read in");
                }
                previous = image._1();
                labels[i] = image._2()._1();
                System.arraycopy(image._2()._2(), 0, pixels, i * imageBytes, imageBytes);
            }
            String splitName = layout.splits().get(split);
            written.add(ShardWriter.writeShard(stagingUri, splitName, (int) shard, new ShardWriter.PixelBatch(pixels, labels), layout, conf));
            shard++;
            while (split < splitCounts.length && shard >= shardsOf(split)) {
                shard = 0;
                split++;
            }
        }
        if (images.hasNext()) {
            throw new IllegalStateException("partition " + p + " holds more images than its shards");
        }
        return written;
    }

    /** Sends each image to the writer partition whose first sort key is the greatest at or below its own. */
    static final class Partitioner extends org.apache.spark.Partitioner {
        private final String[] boundaries;

        Partitioner(String[] boundaries) {
            this.boundaries = boundaries;
        }

        @Override
        public int numPartitions() {
            return boundaries.length + 1;
        }

        @Override
        public int getPartition(Object key) {
            int at = Arrays.binarySearch(boundaries, (String) key);
            return at >= 0 ? at + 1 : -at - 1;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Partitioner other && Arrays.equals(boundaries, other.boundaries);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(boundaries);
        }
    }
}
