package sparkconv.data;

import java.io.IOException;
import java.io.Serializable;
import java.util.List;
import java.util.Locale;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.SparkSession;

import sparkconv.SparkconvException;
import sparkconv.spark.Fs;

/**
 * One image source format (IDX, CIFAR-10 batches, a folder tree, zip or tar archives): how its inputs are found, named
 * and read. A job chooses the reader once ({@link #open}, from {@code --format} or detection) and asks it, never the
 * format, for what it needs. IDX data is read whole ({@link IdxReader}); the other formats are read image by image on
 * executors ({@link Records}), and folders and archives hold encoded PNG / JPEG files, which is what scoring reads
 * ({@link Encoded}).
 */
public interface ImageReader extends Serializable {
    enum Format {
        IDX, CIFAR, FOLDER, ZIP, TAR;

        public static Format parse(String text) {
            try {
                return valueOf(text.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new SparkconvException("unknown --format '" + text + "' (auto, idx, cifar, folder, zip, tar)");
            }
        }

        /** The name users write ({@code --format}, the manifest's lineage). */
        public String code() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    Format format();

    /** The source as the user gave it (a Hadoop URI or path). */
    String source();

    /** Formats read image by image on executors, each image decoded or quarantined: all but IDX. */
    interface Records extends ImageReader {
        /**
         * A fingerprint of the inputs from their listing (path, size, modification time), for "inputs unchanged" checks:
         * hashing every image's bytes would cost as much as decoding them.
         */
        List<ImageSet.SourceFile> fingerprint(Configuration conf);

        /** The class names in label order when the source fixes them, else null: the sorted class-directory names. */
        default List<String> classNames(Configuration conf) {
            return null;
        }

        /** The shape images are decoded to unless the user gives one: channels, height, width. */
        default int[] defaultShape() {
            return new int[]{1, 28, 28};
        }

        /** Every image, decoded or quarantined, with the split its source names (else null) and its class. */
        JavaRDD<DecodedImage> decode(SparkSession spark, ImageDecoder decoder, long maxEntryBytes);
    }

    /** Sources of encoded image files (folders, archives): decoded on executors, or scored as they are. */
    interface Encoded extends Records {
        /** The undecoded images, files over {@code maxEntryBytes} already quarantined. */
        JavaRDD<ImageEntry> entries(SparkSession spark, long maxEntryBytes);

        @Override
        default JavaRDD<DecodedImage> decode(SparkSession spark, ImageDecoder decoder, long maxEntryBytes) {
            return entries(spark, maxEntryBytes).map(e -> DecodedImage.decode(e.ok() && e.label() == null
                    ? ImageEntry.bad(e.path(), e.key(), e.bytes(), new BadImage(QuarantineReason.NO_CLASS_DIRECTORY,
                    "file is not inside a class directory (<class>/<file>)")) : e, decoder));
        }
    }

    /** The reader for {@code source} in {@code format} ({@code auto}: {@link #detect}). */
    static ImageReader open(String source, String format, Configuration conf) {
        return of(source, format.equalsIgnoreCase("auto") ? detect(source, conf) : Format.parse(format));
    }

    static ImageReader of(String source, Format format) {
        return switch (format) {
            case IDX -> new IdxReader(source, null);
            case CIFAR -> new CifarReader(source);
            case FOLDER -> new FolderReader(source);
            case ZIP -> new ArchiveReader(source, ArchiveEntries.Kind.ZIP);
            case TAR -> new ArchiveReader(source, ArchiveEntries.Kind.TAR);
        };
    }

    /**
     * What {@code --format auto} means for a source. A file: an archive by its name ({@code .zip}, {@code .tar},
     * {@code .tar.gz}, {@code .tgz}), an IDX images file ({@code *idx3-ubyte[.gz]}, read with its labels file), or a
     * CIFAR-10 batch ({@code .bin}). A directory: IDX when it holds {@code *-idx3-ubyte[.gz]} files, CIFAR when it holds
     * {@code data_batch*.bin} / {@code test_batch*.bin}, else a folder tree. A glob: archives.
     */
    static Format detect(String source, Configuration conf) {
        Path p = Fs.path(source);
        ArchiveEntries.Kind kind = ArchiveEntries.kindOf(p.getName());
        if (kind != null) {
            return kind == ArchiveEntries.Kind.ZIP ? Format.ZIP : Format.TAR;
        }
        FileStatus status;
        FileSystem fs = Fs.fs(p, conf);
        try {
            if (!fs.exists(p)) {
                throw new SparkconvException(source + ": no such file or directory");
            }
            status = fs.getFileStatus(p);
            if (status.isDirectory()) {
                FileStatus[] children = fs.listStatus(p);
                if (java.util.Arrays.stream(children).anyMatch(s -> IdxReader.isImagesFile(s.getPath().getName()))) {
                    return Format.IDX;
                }
                if (java.util.Arrays.stream(children).anyMatch(s -> CifarReader.isBatchName(s.getPath().getName()))) {
                    return Format.CIFAR;
                }
                return Format.FOLDER;
            }
        } catch (IOException e) {
            throw new SparkconvException(source + ": cannot list: " + e.getMessage(), e);
        }
        String name = p.getName();
        if (IdxReader.isImagesFile(name)) {
            return Format.IDX;
        }
        if (CifarReader.isBatchName(name) || name.endsWith(".bin") && status.getLen() > 0 && status.getLen() % CifarBatches.RECORD == 0) {
            return Format.CIFAR;
        }
        throw new SparkconvException(source + ": a file that is not an archive (.zip, .tar, .tar.gz, .tgz), an IDX images file "
                + "(*-images-idx3-ubyte[.gz]) or a CIFAR-10 batch (.bin of 3,073-byte records); pass --format zip, tar, idx "
                + "or cifar, or give the directory of an image folder");
    }
}
