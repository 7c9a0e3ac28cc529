package sparkconv.data;

import java.util.List;

import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.SparkSession;

/** A folder tree of images, {@code <class>/<file>.png|jpg} at any depth, listed and read by tasks ({@link ImageSources}). */
public record FolderReader(String source) implements ImageReader.Encoded {
    @Override
    public Format format() {
        return Format.FOLDER;
    }

    /** One digest over every file's URI, size and modification time. */
    @Override
    public List<ImageSet.SourceFile> fingerprint(Configuration conf) {
        return ImageSources.folderFingerprint(source, conf);
    }

    @Override
    public JavaRDD<ImageEntry> entries(SparkSession spark, long maxEntryBytes) {
        return ImageSources.folderEntries(spark, source, maxEntryBytes);
    }
}
