package sparkconv.data;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

import sparkconv.SparkconvException;
import sparkconv.spark.Fs;
import sparkconv.spark.SparkSessions;

/**
 * Image sources read in parallel on Spark executors: a folder tree of images (its directories counted on the driver, their
 * files listed and read by tasks) and zip / tar(.gz) archives (a file, a directory of archives, or a glob; each archive
 * split into slices read by several tasks): the reading that {@link FolderReader}, {@link ArchiveReader} and
 * {@link CifarReader} share. Nothing is decoded here; see {@link ImageDecoder} and {@link DecodedImage}.
 */
public final class ImageSources {
    public static final long DEFAULT_MAX_ENTRY_BYTES = 64L * 1024 * 1024;
    /** Each task also pays a fixed cost (its closure and Hadoop conf deserialised, an output file opened and committed). */
    static final int FILES_PER_TASK = 5000;

    private ImageSources() {
    }

    /** A folder's fingerprint: one digest of every file's URI, size and modification time, in URI order. */
    static List<ImageSet.SourceFile> folderFingerprint(String source, Configuration conf) {
        MessageDigest digest = sha256();
        long[] bytes = {0};
        walkFolder(source, conf, (directory, f) -> {
            digest.update((f.uri() + "\t" + f.length() + "\t" + f.modified() + "\n").getBytes(StandardCharsets.UTF_8));
            bytes[0] += f.length();
        });
        return List.of(new ImageSet.SourceFile(Fs.uri(source), bytes[0], HexFormat.of().formatHex(digest.digest())));
    }

    /** Listed files' fingerprints: one per file, a digest of its path, size and modification time. */
    static List<ImageSet.SourceFile> fileFingerprint(List<FileStatus> files) {
        List<ImageSet.SourceFile> out = new ArrayList<>();
        for (FileStatus s : files) {
            String line = s.getPath() + "\t" + s.getLen() + "\t" + s.getModificationTime();
            out.add(new ImageSet.SourceFile(s.getPath().toString(), s.getLen(), Checksums.sha256(line.getBytes(StandardCharsets.UTF_8))));
        }
        return out;
    }

    /** Receives the files of a folder source, each with the URI of the directory that holds it. */
    interface FileVisitor {
        void visit(String directory, FileRef file);
    }

    /**
     * Visits every file under an image folder in URI order, holding one directory's listing at a time per level of
     * depth, never the whole tree's. Hidden names ({@code .x}, {@code _x}) are skipped as Hadoop and Spark skip them.
     * Listing here rather than through the {@code binaryFile} source keeps zero-byte files, which that source drops
     * silently; they must be quarantined. Symbolic links are visited as files (and quarantined when read), never
     * followed. A local folder is walked with java.nio: Hadoop's local listing builds a Path (URI parse) and a status per
     * file, most of a folder job's driver time.
     */
    static void walkFolder(String source, Configuration conf, FileVisitor visitor) {
        Path root = Fs.path(source);
        try {
            if (local(root)) {
                java.nio.file.Path dir = java.nio.file.Path.of(root.toUri());
                if (!Files.exists(dir)) {
                    throw new SparkconvException(source + ": no such file or directory");
                }
                if (!Files.isDirectory(dir)) {
                    throw new SparkconvException(source + ": not a directory (pass --format zip, tar, cifar or idx for a file)");
                }
                walkLocal(dir, visitor);
            } else {
                FileSystem fs = Fs.fs(root, conf);
                if (!fs.exists(root)) {
                    throw new SparkconvException(source + ": no such file or directory");
                }
                if (!fs.getFileStatus(root).isDirectory()) {
                    throw new SparkconvException(source + ": not a directory (pass --format zip, tar, cifar or idx for a file)");
                }
                walkHadoop(fs, fs.getFileStatus(root).getPath(), visitor);
            }
        } catch (IOException e) {
            throw new SparkconvException(source + ": cannot list: " + e.getMessage(), e);
        }
    }

    private static boolean local(Path p) {
        return "file".equals(p.toUri().getScheme());
    }

    private static boolean hidden(String name) {
        return name.startsWith(".") || name.startsWith("_");
    }

    /**
     * A listed name and what it is. Children sort by name with a '/' after a directory's, which orders a directory's
     * whole subtree exactly where its files' URIs sort among its siblings.
     */
    private record Child(String name, String uri, boolean directory, long length, long modified) {
        static final Comparator<Child> URI_ORDER = Comparator.comparing(c -> c.directory() ? c.name() + "/" : c.name());
    }

    private static void walkLocal(java.nio.file.Path dir, FileVisitor visitor) throws IOException {
        List<Child> children = new ArrayList<>();
        try (var listing = Files.newDirectoryStream(dir)) {
            for (java.nio.file.Path f : listing) {
                String name = f.getFileName().toString();
                if (!hidden(name)) {
                    BasicFileAttributes a = Files.readAttributes(f, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                    children.add(new Child(name, localUri(f), a.isDirectory(), a.size(), a.lastModifiedTime().toMillis()));
                }
            }
        }
        children.sort(Child.URI_ORDER);
        String uri = localUri(dir);
        for (Child c : children) {
            if (c.directory()) {
                walkLocal(dir.resolve(c.name()), visitor);
            } else {
                visitor.visit(uri, new FileRef(c.uri(), c.length(), c.modified()));
            }
        }
    }

    private static String localUri(java.nio.file.Path p) {
        return "file:" + p.toAbsolutePath();
    }

    private static void walkHadoop(FileSystem fs, Path dir, FileVisitor visitor) throws IOException {
        List<Child> children = new ArrayList<>();
        for (FileStatus f : fs.listStatus(dir)) {
            if (!hidden(f.getPath().getName())) {
                children.add(new Child(f.getPath().getName(), f.getPath().toString(), f.isDirectory(), f.getLen(), f.getModificationTime()));
            }
        }
        children.sort(Child.URI_ORDER);
        for (Child c : children) {
            if (c.directory()) {
                walkHadoop(fs, new Path(c.uri()), visitor);
            } else {
                visitor.visit(dir.toString(), new FileRef(c.uri(), c.length(), c.modified()));
            }
        }
    }

    /**
     * A folder's files read by tasks that list them themselves: the driver counts the files of each directory (holding
     * only the counts) and cuts each directory into slices of at most {@link #FILES_PER_TASK} files, fewer when that
     * leaves cores idle; slices of small directories share a task up to that size (a task costs a few ms to start). A task
     * lists its directories and reads the files whose names hash to its slices, so the driver and every task hold
     * O(directories + one task's files), not O(files), however large the folder grows.
     */
    static JavaRDD<ImageEntry> folderEntries(SparkSession spark, String source, long maxEntryBytes) {
        JavaSparkContext jsc = SparkSessions.javaContext(spark);
        int parallelism = jsc.defaultParallelism();
        String rootPath = Fs.path(source).toUri().getPath();
        Map<String, Integer> counts = new LinkedHashMap<>();
        walkFolder(source, jsc.hadoopConfiguration(), (directory, f) -> counts.merge(directory, 1, Integer::sum));
        long files = counts.values().stream().mapToLong(Integer::longValue).sum();
        if (files == 0) {
            throw new SparkconvException(source + ": the folder holds no files");
        }
        long perTask = Math.max(1, Math.min(FILES_PER_TASK, (files + parallelism * 2L - 1) / (parallelism * 2L)));
        List<List<DirectorySlice>> tasks = new ArrayList<>();
        List<DirectorySlice> task = new ArrayList<>();
        long inTask = 0;
        for (Map.Entry<String, Integer> d : counts.entrySet()) {
            int slices = (int) ((d.getValue() + perTask - 1) / perTask);
            long share = d.getValue() / slices;
            for (int s = 0; s < slices; s++) {
                if (!task.isEmpty() && inTask + share > perTask) {
                    tasks.add(task);
                    task = new ArrayList<>();
                    inTask = 0;
                }
                task.add(new DirectorySlice(d.getKey(), s, slices));
                inTask += share;
            }
        }
        tasks.add(task);
        return jsc.parallelize(tasks, tasks.size()).flatMap(slices -> {
            Configuration conf = new Configuration(); // one per task: building a Configuration parses XML resources
            List<FileRef> refs = new ArrayList<>();
            for (DirectorySlice t : slices) {
                refs.addAll(sliceFiles(t, conf));
            }
            return refs.stream().map(f -> readFile(f, relative(rootPath, f.path()), maxEntryBytes, conf)).iterator();
        });
    }

    /** One task's share of a directory of a folder source: the files whose name hashes to {@code slice} of {@code slices}. */
    record DirectorySlice(String directory, int slice, int slices) implements java.io.Serializable {
        boolean holds(String name) {
            return sliceOf(name, slices) == slice;
        }
    }

    /** A name's slice: the high bits of its mixed hash scaled to [0, slices), spread evenly even for names like 00001.png. */
    static int sliceOf(String name, int slices) {
        long mixed = (name.hashCode() * 0x9E3779B97F4A7C15L) >>> 32;
        return (int) ((mixed * slices) >>> 32);
    }

    /**
     * The files (not directories) directly in a slice's directory that belong to the slice, sorted by URI. Only the
     * slice's own entries are examined and kept; the directory's other names are passed over as they are listed.
     */
    static List<FileRef> sliceFiles(DirectorySlice t, Configuration conf) throws IOException {
        List<FileRef> out = new ArrayList<>();
        Path dir = new Path(t.directory());
        if (local(dir)) {
            java.nio.file.Path d = java.nio.file.Path.of(dir.toUri());
            // names only (java.io's list builds no Path per entry: each of a directory's slices lists all of it)
            String[] names = d.toFile().list();
            if (names == null) {
                throw new IOException(t.directory() + ": cannot list the directory");
            }
            for (String name : names) {
                if (!hidden(name) && t.holds(name)) {
                    java.nio.file.Path f = d.resolve(name);
                    BasicFileAttributes a = Files.readAttributes(f, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                    if (!a.isDirectory()) {
                        out.add(new FileRef(localUri(f), a.size(), a.lastModifiedTime().toMillis()));
                    }
                }
            }
        } else {
            FileSystem fs = dir.getFileSystem(conf);
            for (RemoteIterator<FileStatus> listing = fs.listStatusIterator(dir); listing.hasNext(); ) {
                FileStatus f = listing.next();
                String name = f.getPath().getName();
                if (!hidden(name) && t.holds(name) && !f.isDirectory()) {
                    out.add(new FileRef(f.getPath().toString(), f.getLen(), f.getModificationTime()));
                }
            }
        }
        out.sort(Comparator.comparing(FileRef::uri));
        return out;
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

        /** The file's path without scheme and authority. */
        String path() {
            String local = localPath();
            return local != null ? local : new Path(uri).toUri().getPath();
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
                try (var in = Files.newByteChannel(file, java.nio.file.StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
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

    /**
     * Archive slices, one per task: every archive is cut into enough slices to keep all cores busy, and a zip into more
     * when it holds over {@link #FILES_PER_TASK} entries a slice (its directory's record count is read on the driver from
     * the end record alone): a task's outputs, a Parquet row group say, are held until it ends. A tar slice walks the
     * whole stream, so a tar is cut only as the cores need. An archive whose name says no kind is read as {@code unnamed}.
     */
    static JavaRDD<ImageEntry> archiveEntries(SparkSession spark, List<FileStatus> archives, ArchiveEntries.Kind unnamed, long maxEntryBytes) {
        JavaSparkContext jsc = SparkSessions.javaContext(spark);
        int parallelism = jsc.defaultParallelism();
        int coreSlices = Math.max(1, (parallelism + archives.size() - 1) / archives.size());
        List<ArchiveSlice> tasks = new ArrayList<>();
        for (FileStatus a : archives) {
            ArchiveEntries.Kind kind = ArchiveEntries.kindOf(a.getPath().getName());
            if (kind == null) {
                kind = unnamed;
            }
            int slices = coreSlices;
            if (kind == ArchiveEntries.Kind.ZIP) {
                long records = ArchiveEntries.zipRecords(a.getPath().toString(), jsc.hadoopConfiguration());
                slices = (int) Math.max(slices, (records + FILES_PER_TASK - 1) / FILES_PER_TASK);
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
     * The files of a source of archives or CIFAR batches, sorted: a file, a glob, or a directory (its files whose names
     * {@code wanted} accepts); none is an error naming {@code what} was looked for.
     */
    static List<FileStatus> files(String source, Configuration conf, java.util.function.Predicate<String> wanted, String what) {
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
                        if (child.isFile() && wanted.test(child.getPath().getName())) {
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
            throw new SparkconvException(source + ": no " + what + " found");
        }
        out.sort(Comparator.comparing(s -> s.getPath().toString()));
        return out;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
