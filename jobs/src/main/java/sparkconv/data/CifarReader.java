package sparkconv.data;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.SparkSession;

import sparkconv.spark.Fs;
import sparkconv.spark.SparkSessions;

/**
 * CIFAR-10 binary batches ({@link CifarBatches}): one batch file, a directory of them, or a glob, one file per task.
 * Class names come from {@code batches.meta.txt} in the batches' directory when present, else CIFAR-10's ten.
 */
public record CifarReader(String source) implements ImageReader.Records {
    @Override
    public Format format() {
        return Format.CIFAR;
    }

    /** The names CIFAR-10 gives its batches: what detection takes for CIFAR in a directory. */
    static boolean isBatchName(String name) {
        return name.matches("(data|test)_batch.*\\.bin");
    }

    List<FileStatus> batches(Configuration conf) {
        return ImageSources.files(source, conf, name -> name.endsWith(".bin"), "CIFAR-10 *.bin batches");
    }

    @Override
    public List<ImageSet.SourceFile> fingerprint(Configuration conf) {
        return ImageSources.fileFingerprint(batches(conf));
    }

    @Override
    public List<String> classNames(Configuration conf) {
        Path p = Fs.path(source);
        Path meta;
        try {
            meta = new Path(Fs.fs(p, conf).isDirectory(p) ? p : p.getParent(), CifarBatches.META);
        } catch (IOException e) {
            throw new sparkconv.SparkconvException(source + ": cannot list: " + e.getMessage(), e);
        }
        if (!Fs.exists(meta, conf)) {
            return CifarBatches.CLASSES;
        }
        List<String> names = Arrays.stream(Fs.readString(meta, conf).split("\\R")).map(String::trim).filter(s -> !s.isEmpty()).toList();
        return names.isEmpty() ? CifarBatches.CLASSES : names;
    }

    @Override
    public int[] defaultShape() {
        return new int[]{3, CifarBatches.SIDE, CifarBatches.SIDE};
    }

    @Override
    public JavaRDD<DecodedImage> decode(SparkSession spark, ImageDecoder decoder, long maxEntryBytes) {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        List<String> classes = classNames(conf);
        List<String> uris = new ArrayList<>();
        for (FileStatus s : batches(conf)) {
            uris.add(s.getPath().toString());
        }
        return SparkSessions.javaContext(spark).parallelize(uris, uris.size())
                .flatMap(uri -> CifarBatches.records(uri, Fs.readBytes(new Path(uri), new Configuration()), classes, decoder).iterator());
    }
}
