package sparkconv.data;

import java.util.List;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.SparkSession;

/**
 * Zip or tar(.gz) archives of an image folder: one archive, a directory of them or a glob, each cut into slices read by
 * several tasks ({@link ArchiveEntries}). An archive's kind comes from its name; {@code kind} is for names that say none.
 */
public record ArchiveReader(String source, ArchiveEntries.Kind kind) implements ImageReader.Encoded {
    @Override
    public Format format() {
        return kind == ArchiveEntries.Kind.ZIP ? Format.ZIP : Format.TAR;
    }

    /** The archives: the file itself, or a directory's / a glob's files named {@code .zip}, {@code .tar}, {@code .tar.gz}, {@code .tgz}. */
    List<FileStatus> archives(Configuration conf) {
        return ImageSources.files(source, conf, name -> ArchiveEntries.kindOf(name) != null, "zip / tar archives");
    }

    /** One digest per archive, of its path, size and modification time. */
    @Override
    public List<ImageSet.SourceFile> fingerprint(Configuration conf) {
        return ImageSources.fileFingerprint(archives(conf));
    }

    @Override
    public JavaRDD<ImageEntry> entries(SparkSession spark, long maxEntryBytes) {
        return ImageSources.archiveEntries(spark, archives(spark.sparkContext().hadoopConfiguration()), kind, maxEntryBytes);
    }
}
