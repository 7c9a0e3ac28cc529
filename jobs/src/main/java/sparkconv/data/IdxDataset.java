package sparkconv.data;

import java.util.List;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;

import sparkconv.SparkconvException;
import sparkconv.spark.Fs;

/**
 * MNIST-layout datasets (Fashion-MNIST, MNIST): four IDX files, raw or gzipped, in one directory, or one pair of an
 * images file and its labels file ({@link IdxReader}).
 */
public final class IdxDataset {
    public static final String DEBIAN_FASHION_MNIST = "/usr/share/datasets/fashion-mnist";
    public static final List<String> FASHION_CLASSES = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");
    public static final List<String> DIGIT_CLASSES = List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9");

    private IdxDataset() {
    }

    /** Training and test sets of the dataset in {@code dir}. */
    public record TrainTest(ImageSet train, ImageSet test) {
    }

    public static TrainTest load(String dir, List<String> classNames, Configuration conf) {
        checkDirectory(dir, conf);
        Path root = Fs.path(dir);
        return new TrainTest(
                read(root, "train", classNames, conf),
                read(root, "t10k", classNames, conf));
    }

    /** {@code dir} is a directory (the IDX files in it are looked up when read). */
    public static void checkDirectory(String dir, Configuration conf) {
        Path root = Fs.path(dir);
        try {
            var fs = Fs.fs(root, conf);
            if (!fs.exists(root)) {
                throw new SparkconvException(dir + ": data directory does not exist (install Debian's dataset-fashion-mnist or pass --data DIR)");
            }
            if (!fs.getFileStatus(root).isDirectory()) {
                throw new SparkconvException(dir + ": not a directory");
            }
        } catch (java.io.IOException e) {
            throw new SparkconvException(dir + ": cannot read data directory: " + e.getMessage(), e);
        }
    }

    private static ImageSet read(Path root, String prefix, List<String> classNames, Configuration conf) {
        return pair(find(root, prefix + "-images-idx3-ubyte", conf), find(root, prefix + "-labels-idx1-ubyte", conf), classNames, conf);
    }

    /** One images file (count x rows x cols) with its labels file (count). */
    public static ImageSet pair(Path imagesPath, Path labelsPath, List<String> classNames, Configuration conf) {
        byte[] imageBytes = Fs.readBytes(imagesPath, conf);
        byte[] labelBytes = Fs.readBytes(labelsPath, conf);
        IdxFile images = IdxFile.parse(imagesPath.toString(), imageBytes);
        IdxFile labels = IdxFile.parse(labelsPath.toString(), labelBytes);
        if (images.dims().length != 3) {
            throw new SparkconvException(imagesPath + ": expected 3 IDX dimensions (count, rows, cols), found " + images.dims().length);
        }
        if (labels.dims().length != 1) {
            throw new SparkconvException(labelsPath + ": expected 1 IDX dimension (count), found " + labels.dims().length);
        }
        if (images.count() != labels.count()) {
            throw new SparkconvException(imagesPath + ": " + images.count() + " images but " + labelsPath.getName()
                    + " has " + labels.count() + " labels");
        }
        int[] y = new int[labels.count()];
        for (int i = 0; i < y.length; i++) {
            y[i] = labels.data()[i] & 0xff;
            if (y[i] >= classNames.size()) {
                throw new SparkconvException(labelsPath + ": label " + y[i] + " at index " + i + " is outside 0.." + (classNames.size() - 1));
            }
        }
        return new ImageSet(1, images.dims()[1], images.dims()[2], classNames, images.data(), y, List.of(
                new ImageSet.SourceFile(imagesPath.toString(), imageBytes.length, Checksums.sha256(imageBytes)),
                new ImageSet.SourceFile(labelsPath.toString(), labelBytes.length, Checksums.sha256(labelBytes))));
    }

    private static Path find(Path root, String base, Configuration conf) {
        for (String name : new String[]{base, base + ".gz"}) {
            Path p = new Path(root, name);
            if (Fs.exists(p, conf)) {
                return p;
            }
        }
        throw new SparkconvException(root + ": missing " + base + "[.gz]");
    }

}
