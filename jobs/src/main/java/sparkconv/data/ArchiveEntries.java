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
 * The entries of one zip or tar(.gz) archive as {@link ImageEntry}s, lazily, one slice of them: entry {@code i} (counting
 * files only) belongs to slice {@code i % slices}, so several tasks share one archive without a shuffle. A zip is read
 * through its central directory, streamed ({@link ZipDirectoryReader}: each slice reads only its own entries and holds one
 * header at a time); a tar is a stream, so each slice walks all headers
 * but reads only its own entries' bytes.
 *
 * <p>Entries are never extracted to disk; still, names that are absolute or climb out with {@code ..}, and links, are
 * quarantined rather than trusted, as are entries over {@code maxEntryBytes} (checked while reading: a zip's declared
 * size can lie). An archive that cannot be opened becomes one quarantined entry.
 */
public final class ArchiveEntries implements Iterator<ImageEntry>, Closeable {
    public enum Kind { ZIP, TAR }

    private final String uri;
    private final int slice;
    private final int slices;
    private final long maxEntryBytes;
    private final Closeable resource;
    private final Source source;
    private int index;
    private ImageEntry next;
    private boolean done;
    private boolean corrupt;

    /** The next raw entry of an archive (null at the end), and how to read its bytes. */
    private interface Source {
        Raw next() throws IOException;
    }

    private interface Raw {
        String name();

        boolean directory();

        boolean link();

        long declaredSize();

        InputStream open() throws IOException;
    }

    private ArchiveEntries(String uri, int slice, int slices, long maxEntryBytes, Closeable resource, Source source) {
        this.uri = uri;
        this.slice = slice;
        this.slices = slices;
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
        } catch (IOException e) {
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

    private static ArchiveEntries zip(String uri, SeekableByteChannel channel, long size, int slice, int slices, long max) throws IOException {
        ZipDirectoryReader zip = ZipDirectoryReader.open(channel, size);
        return new ArchiveEntries(uri, slice, slices, max, zip, () -> {
            ZipDirectoryReader.Entry e = zip.next();
            if (e == null) {
                return null;
            }
            return new Raw() {
                public String name() {
                    return e.name();
                }

                public boolean directory() {
                    return e.directory();
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
        });
    }

    private static ArchiveEntries tar(String uri, InputStream raw, int slice, int slices, long max) throws IOException {
        BufferedInputStream buffered = new BufferedInputStream(raw, 1 << 16);
        buffered.mark(2);
        boolean gzip = buffered.read() == 0x1f && buffered.read() == 0x8b;
        buffered.reset();
        TarArchiveInputStream tar = new TarArchiveInputStream(gzip ? new GZIPInputStream(buffered, 1 << 16) : buffered);
        return new ArchiveEntries(uri, slice, slices, max, tar, () -> {
            TarArchiveEntry e = tar.getNextTarEntry();
            if (e == null) {
                return null;
            }
            return new Raw() {
                public String name() {
                    return e.getName();
                }

                public boolean directory() {
                    return e.isDirectory();
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
        });
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
        while (!corrupt) {
            Raw raw;
            try {
                raw = source.next();
            } catch (IOException | RuntimeException e) {
                // a corrupt header ends the walk (what follows cannot be located); slice 0 reports it once
                corrupt = true;
                return slice == 0 ? ImageEntry.bad(uri, "entry #" + index, 0,
                        new BadImage(QuarantineReason.UNREADABLE, "archive is corrupt after " + index + " entries: " + e.getMessage())) : null;
            }
            if (raw == null) {
                return null;
            }
            if (raw.directory()) {
                continue;
            }
            if (index++ % slices != slice) {
                continue;
            }
            return entry(raw);
        }
        return null;
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
