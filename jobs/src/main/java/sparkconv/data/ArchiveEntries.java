package sparkconv.data;

import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.StandardOpenOption;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.zip.GZIPInputStream;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The entries of one zip or tar(.gz) archive as {@link ImageEntry}s, lazily, one slice of them, so several tasks share
 * one archive without a shuffle. A zip is read through its central directory, streamed ({@link ZipDirectoryReader}: one
 * header held at a time), and slice {@code k} of {@code n} takes the k-th contiguous run of its directory records: a
 * task reads only its own entries' bytes, in archive order. A tar is a stream, so each slice walks all headers but
 * reads only its own entries' bytes: file {@code i} belongs to slice {@code i % n}.
 *
 * <p>Entries are never extracted to disk; still, names that are absolute or climb out with {@code ..}, and links, are
 * quarantined rather than trusted, as are entries over {@code maxEntryBytes} (checked while reading: a zip's declared
 * size can lie). An archive that cannot be opened becomes one quarantined entry.
 */
public final class ArchiveEntries implements Iterator<ImageEntry>, Closeable {
    public enum Kind { ZIP, TAR }

    private final String uri;
    private final long maxEntryBytes;
    private final Closeable resource;
    private final Source source;
    private ImageEntry next;
    private boolean done;
    private boolean corrupt;

    /** The raw file entries of one slice of an archive, and how many entries of the archive were walked to reach them. */
    private interface Source {
        /**
         * The next file entry of this slice, or null after its last. Corruption (what follows cannot be located) is an
         * exception in the one slice that reports it, and a quiet end in the others.
         */
        Raw next() throws IOException;

        /** Entries of the whole archive walked so far: where a corruption report says the archive broke. */
        long walked();
    }

    private interface Raw {
        String name();

        boolean link();

        long declaredSize();

        InputStream open() throws IOException;
    }

    private ArchiveEntries(String uri, long maxEntryBytes, Closeable resource, Source source) {
        this.uri = uri;
        this.maxEntryBytes = maxEntryBytes;
        this.resource = resource;
        this.source = source;
    }

    public static Kind kindOf(String name) {
        String n = name.toLowerCase(java.util.Locale.ROOT);
        if (n.endsWith(".zip")) {
            return Kind.ZIP;
        }
        if (n.endsWith(".tar") || n.endsWith(".tar.gz") || n.endsWith(".tgz")) {
            return Kind.TAR;
        }
        return null;
    }

    /** Opens slice {@code slice} of {@code slices} of the archive at {@code uri}. */
    public static Iterator<ImageEntry> open(String uri, Kind kind, int slice, int slices, long maxEntryBytes, Configuration conf) {
        Path p = new Path(uri);
        try {
            FileSystem fs = p.getFileSystem(conf);
            long size = fs.getFileStatus(p).getLen();
            if (size == 0) {
                throw new BadImage(QuarantineReason.EMPTY_FILE, "zero-byte archive");
            }
            return kind == Kind.ZIP ? zip(uri, channel(p, fs, size), size, slice, slices, maxEntryBytes)
                    : tar(uri, fs.open(p), slice, slices, maxEntryBytes);
        } catch (BadImage bad) {
            return slice == 0 ? List.of(ImageEntry.bad(uri, p.getName(), 0, bad)).iterator() : List.<ImageEntry>of().iterator();
        } catch (IOException | RuntimeException e) { // whatever a malformed archive makes a parser throw, it is one bad input
            BadImage bad = new BadImage(QuarantineReason.UNREADABLE, "cannot open " + kind.name().toLowerCase() + " archive: " + e.getMessage());
            return slice == 0 ? List.of(ImageEntry.bad(uri, p.getName(), 0, bad)).iterator() : List.<ImageEntry>of().iterator();
        }
    }

    /** A local archive is read with java.nio (positioned reads, none of Hadoop's per-seek stream work), others through Hadoop. */
    private static SeekableByteChannel channel(Path p, FileSystem fs, long size) throws IOException {
        if ("file".equals(p.toUri().getScheme())) {
            return FileChannel.open(java.nio.file.Path.of(p.toUri()), StandardOpenOption.READ);
        }
        return new HadoopChannel(fs.open(p), size);
    }

    /**
     * The number of central-directory records (files and directories) of the zip at {@code uri}, from its end record
     * alone; -1 if it cannot be read (the tasks reading it report why).
     */
    public static long zipRecords(String uri, Configuration conf) {
        Path p = new Path(uri);
        try {
            FileSystem fs = p.getFileSystem(conf);
            long size = fs.getFileStatus(p).getLen();
            try (ZipDirectoryReader zip = ZipDirectoryReader.open(channel(p, fs, size), size)) {
                return zip.records();
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /**
     * Records {@code [slice * n / slices, (slice + 1) * n / slices)} of the directory's {@code n}, the last slice taking
     * any beyond {@code n} (a writer that wraps the 16-bit count at 65,536 entries); each slice parses the headers before
     * its run without building entries.
     */
    private static ArchiveEntries zip(String uri, SeekableByteChannel channel, long size, int slice, int slices, long max) throws IOException {
        ZipDirectoryReader zip = ZipDirectoryReader.open(channel, size);
        long records = zip.records();
        long first = slice * records / slices;
        long end = slice == slices - 1 ? Long.MAX_VALUE : (slice + 1) * records / slices;
        return new ArchiveEntries(uri, max, zip, new Source() {
            private long record;

            public Raw next() throws IOException {
                try {
                    while (record < first) {
                        if (!zip.skip()) {
                            return null;
                        }
                        record++;
                    }
                } catch (IOException | RuntimeException e) {
                    return null; // corrupt before this slice's run: the slice whose run holds the record reports it
                }
                while (record < end) {
                    ZipDirectoryReader.Entry e = zip.next();
                    if (e == null) {
                        return null;
                    }
                    record++;
                    if (!e.directory()) {
                        return zipEntry(zip, e);
                    }
                }
                return null;
            }

            public long walked() {
                return record;
            }
        });
    }

    private static Raw zipEntry(ZipDirectoryReader zip, ZipDirectoryReader.Entry e) {
        return new Raw() {
            public String name() {
                return e.name();
            }

            public boolean link() {
                return e.unixSymlink();
            }

            public long declaredSize() {
                return e.size();
            }

            public InputStream open() throws IOException {
                return zip.open(e);
            }
        };
    }

    private static ArchiveEntries tar(String uri, InputStream raw, int slice, int slices, long max) throws IOException {
        BufferedInputStream buffered = new BufferedInputStream(raw, 1 << 16);
        buffered.mark(2);
        boolean gzip = buffered.read() == 0x1f && buffered.read() == 0x8b;
        buffered.reset();
        TarArchiveInputStream tar = new TarArchiveInputStream(gzip ? new GZIPInputStream(buffered, 1 << 16) : buffered);
        return new ArchiveEntries(uri, max, tar, new Source() {
            private long files;

            public Raw next() throws IOException {
                try {
                    for (TarArchiveEntry e = tar.getNextTarEntry(); e != null; e = tar.getNextTarEntry()) {
                        if (!e.isDirectory() && files++ % slices == slice) {
                            return tarEntry(tar, e);
                        }
                    }
                    return null;
                } catch (IOException | RuntimeException e) {
                    if (slice == 0) { // every slice walks every header and meets the corruption: one reports it
                        throw e;
                    }
                    return null;
                }
            }

            public long walked() {
                return files;
            }
        });
    }

    private static Raw tarEntry(TarArchiveInputStream tar, TarArchiveEntry e) {
        return new Raw() {
            public String name() {
                return e.getName();
            }

            public boolean link() {
                return e.isSymbolicLink() || e.isLink();
            }

            public long declaredSize() {
                return e.getSize();
            }

            public InputStream open() {
                // positioned at this entry's bytes until the next getNextTarEntry(); closing it would end the walk
                return new FilterInputStream(tar) {
                    @Override
                    public void close() {
                    }
                };
            }
        };
    }

    @Override
    public boolean hasNext() {
        if (next == null && !done) {
            next = advance();
            if (next == null) {
                done = true;
                closeQuietly();
            }
        }
        return next != null;
    }

    @Override
    public ImageEntry next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        ImageEntry e = next;
        next = null;
        return e;
    }

    private ImageEntry advance() {
        if (corrupt) {
            return null;
        }
        Raw raw;
        try {
            raw = source.next();
        } catch (IOException | RuntimeException e) {
            corrupt = true;
            long after = source.walked();
            return ImageEntry.bad(uri, "entry #" + after, 0,
                    new BadImage(QuarantineReason.UNREADABLE, "archive is corrupt after " + after + " entries: " + e.getMessage()));
        }
        return raw == null ? null : entry(raw);
    }

    private ImageEntry entry(Raw raw) {
        String name = raw.name().replace('\\', '/');
        String path = uri + "!/" + name;
        long declared = Math.max(raw.declaredSize(), 0);
        if (unsafe(name)) {
            return ImageEntry.bad(path, name, declared, new BadImage(QuarantineReason.UNSAFE_PATH,
                    "entry name '" + name + "' is absolute or leaves the archive root"));
        }
        if (raw.link()) {
            return ImageEntry.bad(path, name, declared, new BadImage(QuarantineReason.SYMLINK, "entry is a link, not a file"));
        }
        if (declared > maxEntryBytes) {
            return ImageEntry.bad(path, name, declared, new BadImage(QuarantineReason.TOO_LARGE,
                    "entry declares " + declared + " bytes, over the limit of " + maxEntryBytes));
        }
        try (InputStream in = raw.open()) {
            byte[] content = readAtMost(in, maxEntryBytes);
            if (content == null) {
                return ImageEntry.bad(path, name, maxEntryBytes, new BadImage(QuarantineReason.TOO_LARGE,
                        "entry holds more than " + maxEntryBytes + " bytes"));
            }
            return ImageEntry.of(path, name, content);
        } catch (IOException | RuntimeException e) {
            return ImageEntry.bad(path, name, declared, new BadImage(QuarantineReason.UNREADABLE, "cannot read entry: " + e.getMessage()));
        }
    }

    /** Absolute ("/x", "C:x") or climbing ("../x", "a/../../x") names: the zip-slip patterns. */
    static boolean unsafe(String name) {
        if (name.startsWith("/") || name.matches("^[A-Za-z]:.*")) {
            return true;
        }
        for (String part : name.split("/")) {
            if (part.equals("..")) {
                return true;
            }
        }
        return false;
    }

    /** The stream's bytes, or null if there are more than {@code max} (read no further than max + 1). */
    private static byte[] readAtMost(InputStream in, long max) throws IOException {
        byte[] all = in.readNBytes((int) Math.min(max + 1, Integer.MAX_VALUE - 8));
        return all.length > max ? null : all;
    }

    private void closeQuietly() {
        try {
            close();
        } catch (IOException e) {
            // the walk is over; a failing close loses nothing
        }
    }

    @Override
    public void close() throws IOException {
        resource.close();
    }
}
