package sparkconv.data;

import java.io.IOException;
import java.util.List;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import sparkconv.SparkconvException;
import sparkconv.spark.Fs;

/**
 * IDX data (MNIST, Fashion-MNIST), read whole on the driver ({@link IdxDataset}): a directory with the four files
 * ({@code train-} and {@code t10k-images-idx3-ubyte}, {@code -labels-idx1-ubyte}, raw or {@code .gz}), or one images
 * file read with its labels file: {@code labels} when given, else the file beside it named with {@code labels} for
 * {@code images} and {@code idx1} for {@code idx3} ({@code train-images-idx3-ubyte.gz} -> {@code train-labels-idx1-ubyte.gz},
 * also {@code train-images.idx3-ubyte} -> {@code train-labels.idx1-ubyte}), gzipped or not.
 *
 * @param labels the labels file of a lone images file, or null to find it by name
 */
public record IdxReader(String source, String labels) implements ImageReader {
    @Override
    public Format format() {
        return Format.IDX;
    }

    /** An IDX images file's name (three dimensions: count, rows, cols). */
    static boolean isImagesFile(String name) {
        return name.matches(".*idx3-ubyte(\\.gz)?");
    }

    /**
     * The images: a directory's training and test sets, or a lone pair as the training set with no test set (null).
     */
    public IdxDataset.TrainTest load(List<String> classNames, Configuration conf) {
        Path p = Fs.path(source);
        FileSystem fs = Fs.fs(p, conf);
        try {
            if (fs.exists(p) && fs.getFileStatus(p).isFile()) {
                return new IdxDataset.TrainTest(IdxDataset.pair(p, labelsOf(p, conf), classNames, conf), null);
            }
        } catch (IOException e) {
            throw new SparkconvException(source + ": cannot read: " + e.getMessage(), e);
        }
        if (labels != null) {
            throw new SparkconvException(source + ": a labels file is given, so the source must be an IDX images file, not a directory");
        }
        return IdxDataset.load(source, classNames, conf);
    }

    private Path labelsOf(Path images, Configuration conf) {
        if (labels != null) {
            Path given = Fs.path(labels);
            if (!Fs.exists(given, conf)) {
                throw new SparkconvException(labels + ": no such labels file");
            }
            return given;
        }
        String name = images.getName();
        String base = name.endsWith(".gz") ? name.substring(0, name.length() - 3) : name;
        if (!isImagesFile(base) || !base.contains("images")) {
            throw new SparkconvException(source + ": cannot name its labels file (expected an images file named like "
                    + "train-images-idx3-ubyte[.gz]); pass --idx-labels FILE");
        }
        String labelsBase = base.replace("images", "labels").replace("idx3", "idx1");
        for (String candidate : new String[]{labelsBase, labelsBase + ".gz"}) {
            Path p = new Path(images.getParent(), candidate);
            if (Fs.exists(p, conf)) {
                return p;
            }
        }
        throw new SparkconvException(source + ": its labels file " + labelsBase + "[.gz] is not beside it; pass --idx-labels FILE");
    }
}
