package sparkconv.data;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

import sparkconv.SparkconvException;
import sparkconv.spark.Fs;
import sparkconv.spark.SparkSessions;

/**
 * Image sources read in parallel on Spark executors: a folder tree of images (listed on the driver, read by tasks) and
 * zip / tar(.gz) archives (a file, a directory of archives, or a glob; each archive split into slices read by several
 * tasks). Nothing is decoded here; see {@link ImageDecoder} and {@link DecodedImage}.
 */
public final class ImageSources {
    public static final long DEFAULT_MAX_ENTRY_BYTES = 64L * 1024 * 1024;
    /** Each task also pays a fixed cost (its closure and Hadoop conf deserialised, an output file opened and committed). */
    static final int FILES_PER_TASK = 5000;

    public enum Format {
        IDX, CIFAR, FOLDER, ZIP, TAR;

        public static Format parse(String text) {
            try {
                return valueOf(text.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new SparkconvException("unknown --format '" + text + "' (auto, idx, cifar, folder, zip, tar)");
            }
        }
    }

    private ImageSources() {
    }

    /** What {@code --format auto} means for a source: IDX or CIFAR files in a directory, an archive, else a folder tree. */
    public static Format detect(String source, Configuration conf) {
        Path p = Fs.path(source);
        ArchiveEntries.Kind kind = ArchiveEntries.kindOf(p.getName());
        if (kind != null) {
            return kind == ArchiveEntries.Kind.ZIP ? Format.ZIP : Format.TAR;
        }
        FileStatus[] children = list(p, conf);
        if (Arrays.stream(children).anyMatch(s -> s.getPath().getName().matches(".*-idx3-ubyte(\\.gz)?"))) {
            return Format.IDX;
        }
        if (Arrays.stream(children).anyMatch(s -> s.getPath().getName().matches("(data|test)_batch.*\\.bin"))) {
            return Format.CIFAR;
        }
        return Format.FOLDER;
    }

    /**
     * A fingerprint of the inputs from their listing (path, size, modification time), for "inputs unchanged" checks:
     * hashing every image's bytes would cost as much as decoding them.
     */
    public static List<ImageSet.SourceFile> fingerprint(SparkSession spark, String source, Format format) {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        if (format == Format.FOLDER) {
            MessageDigest digest = sha256();
            long bytes = 0;
            for (FileRef f : folderFiles(source, conf)) {
                digest.update((f.uri() + "\t" + f.length() + "\t" + f.modified() + "\n").getBytes(StandardCharsets.UTF_8));
                bytes += f.length();
            }
            return List.of(new ImageSet.SourceFile(Fs.uri(source), bytes, HexFormat.of().formatHex(digest.digest())));
        }
        List<ImageSet.SourceFile> out = new ArrayList<>();
        for (FileStatus s : files(source, format, conf)) {
            String line = s.getPath() + "\t" + s.getLen() + "\t" + s.getModificationTime();
            out.add(new ImageSet.SourceFile(s.getPath().toString(), s.getLen(), Checksums.sha256(line.getBytes(StandardCharsets.UTF_8))));
        }
        return out;
    }

    /** The undecoded images of a folder tree or archives, spread over about twice the default parallelism. */
    public static JavaRDD<ImageEntry> entries(SparkSession spark, String source, Format format, long maxEntryBytes) {
        JavaSparkContext jsc = SparkSessions.javaContext(spark);
        int parallelism = jsc.defaultParallelism();
        return switch (format) {
            case FOLDER -> folderEntries(jsc, source, maxEntryBytes, parallelism);
            case ZIP, TAR -> archiveEntries(jsc, source, format, maxEntryBytes, parallelism);
            default -> throw new SparkconvException(source + ": " + format.name().toLowerCase(Locale.ROOT) + " is not an image folder or archive");
        };
    }

    /**
     * The files under an image folder, sorted, listed on the driver as Spark's own file index does. Hidden names
     * ({@code .x}, {@code _x}) are skipped as Hadoop and Spark skip them. Listing here rather than through the
     * {@code binaryFile} source keeps zero-byte files, which that source drops silently; they must be quarantined.
     * Symbolic links are listed as files (and quarantined when read), never followed. A local folder is walked with
     * java.nio: Hadoop's local listing builds a Path (URI parse) and a status per file, most of a folder job's driver time.
     */
    public static List<FileRef> folderFiles(String source, Configuration conf) {
        Path root = Fs.path(source);
        List<FileRef> out = new ArrayList<>();
        try {
            if ("file".equals(root.toUri().getScheme())) {
                listLocal(java.nio.file.Path.of(root.toUri()), source, out);
            } else {
                listHadoop(root, source, conf, out);
            }
        } catch (IOException e) {
            throw new SparkconvException(source + ": cannot list: " + e.getMessage(), e);
        }
        out.sort(Comparator.comparing(FileRef::uri));
        return out;
    }

    private static boolean hidden(String name) {
        return name.startsWith(".") || name.startsWith("_");
    }

    private static void listLocal(java.nio.file.Path root, String source, List<FileRef> out) throws IOException {
        if (!Files.exists(root)) {
            throw new SparkconvException(source + ": no such file or directory");
        }
        if (!Files.isDirectory(root)) {
            throw new SparkconvException(source + ": not a directory (pass --format zip or tar for an archive)");
        }
        ArrayDeque<java.nio.file.Path> dirs = new ArrayDeque<>(List.of(root));
        while (!dirs.isEmpty()) {
            try (var children = Files.newDirectoryStream(dirs.pop())) {
                for (java.nio.file.Path f : children) {
                    if (hidden(f.getFileName().toString())) {
                        continue;
                    }
                    var a = Files.readAttributes(f, java.nio.file.attribute.BasicFileAttributes.class, java.nio.file.LinkOption.NOFOLLOW_LINKS);
                    if (a.isDirectory()) {
                        dirs.push(f);
                    } else {
                        out.add(new FileRef("file:" + f.toAbsolutePath(), a.size(), a.lastModifiedTime().toMillis()));
                    }
                }
            }
        }
    }

    private static void listHadoop(Path root, String source, Configuration conf, List<FileRef> out) throws IOException {
        FileSystem fs = Fs.fs(root, conf);
        if (!fs.exists(root)) {
            throw new SparkconvException(source + ": no such file or directory");
        }
        if (!fs.getFileStatus(root).isDirectory()) {
            throw new SparkconvException(source + ": not a directory (pass --format zip or tar for an archive)");
        }
        ArrayDeque<Path> dirs = new ArrayDeque<>(List.of(root));
        while (!dirs.isEmpty()) {
            for (FileStatus f : fs.listStatus(dirs.pop())) {
                if (hidden(f.getPath().getName())) {
                    continue;
                }
                if (f.isDirectory()) {
                    dirs.push(f.getPath());
                } else {
                    out.add(new FileRef(f.getPath().toString(), f.getLen(), f.getModificationTime()));
                }
            }
        }
    }

    /**
     * Files read by about twice as many tasks as cores, each task reading a contiguous run of the sorted listing, and by
     * more for large folders (at most {@link #FILES_PER_TASK} each): a task's list of files travels inside the task, and
     * its outputs (a Parquet row group, say) are held until the task ends.
     */
    private static JavaRDD<ImageEntry> folderEntries(JavaSparkContext jsc, String source, long maxEntryBytes, int parallelism) {
        Path root = Fs.path(source);
        String rootPath = root.toUri().getPath();
        List<FileRef> files = folderFiles(source, jsc.hadoopConfiguration());
        if (files.isEmpty()) {
            throw new SparkconvException(source + ": the folder holds no files");
        }
        int tasks = Math.max(parallelism * 2, (files.size() + FILES_PER_TASK - 1) / FILES_PER_TASK);
        return jsc.parallelize(files, Math.min(files.size(), tasks)).mapPartitions(refs -> {
            Configuration conf = new Configuration(); // one per task: building a Configuration parses XML resources
            return new Iterator<ImageEntry>() {
                public boolean hasNext() {
                    return refs.hasNext();
                }

                public ImageEntry next() {
                    FileRef f = refs.next();
                    String local = f.localPath();
                    return readFile(f, relative(rootPath, local != null ? local : new Path(f.uri()).toUri().getPath()), maxEntryBytes, conf);
                }
            };
        });
    }

    /** A listed file: its URI as Hadoop writes it, size and modification time (ms). */
    public record FileRef(String uri, long length, long modified) implements java.io.Serializable {
        private static final String LOCAL = "file:";

        /**
         * The local file's path, or null for other file systems. Local listings write {@code file:} and the plain path, so
         * no Hadoop Path is built per file (its URI parsing and normalising cost more than reading a small PNG).
         */
        String localPath() {
            return uri.startsWith(LOCAL) && !uri.startsWith(LOCAL + "//") ? uri.substring(LOCAL.length()) : null;
        }
    }

    /**
     * Local files are read with java.nio: Hadoop's local file system costs ~20 us of stream and statistics set-up per
     * open, more than decoding a small PNG, and it follows symbolic links, which are quarantined instead (a link can
     * point anywhere on the machine): the file is opened without following links, so a link found at listing time or
     * put in place since is refused by the open itself. Other file systems have no links to follow.
     */
    private static ImageEntry readFile(FileRef f, String key, long maxEntryBytes, Configuration conf) {
        String local = f.localPath();
        if (f.length() > maxEntryBytes) {
            return ImageEntry.bad(f.uri(), key, f.length(), new BadImage(QuarantineReason.TOO_LARGE,
                    "file holds " + f.length() + " bytes, over the limit of " + maxEntryBytes));
        }
        try {
            if (local != null) {
                java.nio.file.Path file = java.nio.file.Path.of(local);
                try (var in = Files.newByteChannel(file, java.nio.file.StandardOpenOption.READ, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    java.nio.ByteBuffer buffer = java.nio.ByteBuffer.allocate((int) in.size());
                    while (buffer.hasRemaining() && in.read(buffer) >= 0) {
                        // read until full or at the end
                    }
                    return ImageEntry.of(f.uri(), key, buffer.position() == buffer.capacity() ? buffer.array()
                            : java.util.Arrays.copyOf(buffer.array(), buffer.position()));
                } catch (IOException e) { // a link refused by NOFOLLOW_LINKS is a plain IOException ("Too many levels ...")
                    if (Files.isSymbolicLink(file)) {
                        return symlink(f, key);
                    }
                    throw e;
                }
            }
            Path p = new Path(f.uri());
            try (var in = p.getFileSystem(conf).open(p)) {
                return ImageEntry.of(f.uri(), key, in.readAllBytes());
            }
        } catch (IOException e) {
            return ImageEntry.bad(f.uri(), key, f.length(), new BadImage(QuarantineReason.UNREADABLE, "cannot read: " + e.getMessage()));
        }
    }

    private static ImageEntry symlink(FileRef f, String key) {
        return ImageEntry.bad(f.uri(), key, 0, new BadImage(QuarantineReason.SYMLINK, "file is a symbolic link"));
    }

    private static String relative(String root, String file) {
        String prefix = root.endsWith("/") ? root : root + "/";
        return file.startsWith(prefix) ? file.substring(prefix.length()) : file;
    }

    /** One archive slice per task: every archive is cut into enough slices to keep all cores busy. */
    private static JavaRDD<ImageEntry> archiveEntries(JavaSparkContext jsc, String source, Format format, long maxEntryBytes, int parallelism) {
        List<FileStatus> archives = files(source, format, jsc.hadoopConfiguration());
        int slices = Math.max(1, (parallelism + archives.size() - 1) / archives.size());
        List<ArchiveSlice> tasks = new ArrayList<>();
        for (FileStatus a : archives) {
            ArchiveEntries.Kind kind = ArchiveEntries.kindOf(a.getPath().getName());
            if (kind == null) {
                kind = format == Format.ZIP ? ArchiveEntries.Kind.ZIP : ArchiveEntries.Kind.TAR;
            }
            for (int s = 0; s < slices; s++) {
                tasks.add(new ArchiveSlice(a.getPath().toString(), kind, s, slices));
            }
        }
        return jsc.parallelize(tasks, tasks.size()).flatMap(t ->
                ArchiveEntries.open(t.uri(), t.kind(), t.slice(), t.slices(), maxEntryBytes, new Configuration()));
    }

    record ArchiveSlice(String uri, ArchiveEntries.Kind kind, int slice, int slices) implements java.io.Serializable {
    }

    /**
     * The files of an archive or CIFAR source, sorted: a file, a glob, or a directory (its archives, or its CIFAR
     * {@code *.bin} batches).
     */
    public static List<FileStatus> files(String source, Format format, Configuration conf) {
        Path p = Fs.path(source);
        FileSystem fs = Fs.fs(p, conf);
        List<FileStatus> out = new ArrayList<>();
        try {
            FileStatus[] matched = fs.globStatus(p);
            if (matched == null || matched.length == 0) {
                throw new SparkconvException(source + ": no such file or directory");
            }
            for (FileStatus m : matched) {
                if (m.isDirectory()) {
                    for (FileStatus child : fs.listStatus(m.getPath())) {
                        if (child.isFile() && wanted(child.getPath().getName(), format)) {
                            out.add(child);
                        }
                    }
                } else {
                    out.add(m);
                }
            }
        } catch (IOException e) {
            throw new SparkconvException(source + ": cannot list: " + e.getMessage(), e);
        }
        if (out.isEmpty()) {
            throw new SparkconvException(source + ": no " + (format == Format.CIFAR ? "CIFAR-10 *.bin batches" : "zip / tar archives") + " found");
        }
        out.sort(Comparator.comparing(s -> s.getPath().toString()));
        return out;
    }

    private static boolean wanted(String name, Format format) {
        return format == Format.CIFAR ? name.endsWith(".bin") : ArchiveEntries.kindOf(name) != null;
    }

    private static FileStatus[] list(Path p, Configuration conf) {
        try {
            FileSystem fs = Fs.fs(p, conf);
            if (!fs.exists(p)) {
                throw new SparkconvException(p + ": no such file or directory");
            }
            return fs.getFileStatus(p).isDirectory() ? fs.listStatus(p) : new FileStatus[0];
        } catch (IOException e) {
            throw new SparkconvException(p + ": cannot list: " + e.getMessage(), e);
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
