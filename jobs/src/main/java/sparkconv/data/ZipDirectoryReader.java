package sparkconv.data;

import java.io.ByteArrayInputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import java.util.zip.Inflater;
import java.util.zip.InflaterInputStream;

import org.apache.commons.compress.compressors.bzip2.BZip2CompressorInputStream;
import org.apache.commons.compress.compressors.deflate64.Deflate64CompressorInputStream;

/**
 * A zip archive read through its central directory one entry at a time: only the current entry's header is held, however
 * many entries the archive has. (A ZipFile parses and keeps the whole directory, ~0.7 KiB an entry with its extra fields,
 * in every task that opens the archive: 60,000 entries cost each of two concurrent tasks ~45 MiB of heap.) The directory
 * is read ahead in 64 KiB blocks and each entry's bytes by positioned reads of the same channel.
 *
 * <p>Zip64 sizes and offsets, UTF-8 and Info-ZIP Unicode-path names, and stored, deflated, deflate64 and bzip2 entries are
 * read; other methods and encrypted entries fail when their bytes are opened. Entries come in directory order, as
 * {@code ZipFile.getEntries()} lists them.
 */
final class ZipDirectoryReader implements Closeable {
    private static final int EOCD = 0x06054b50;
    private static final int ZIP64_LOCATOR = 0x07064b50;
    private static final int ZIP64_EOCD = 0x06064b50;
    private static final int CENTRAL_HEADER = 0x02014b50;
    private static final int LOCAL_HEADER = 0x04034b50;
    private static final int DIGITAL_SIGNATURE = 0x05054b50;
    private static final int EOCD_BYTES = 22;
    private static final int CENTRAL_BYTES = 46;
    private static final int LOCAL_BYTES = 30;
    private static final long MAGIC32 = 0xFFFFFFFFL;
    private static final int MAGIC16 = 0xFFFF;
    private static final int ZIP64_EXTRA = 0x0001;
    private static final int UNICODE_PATH_EXTRA = 0x7075;
    private static final int UTF8_NAMES = 1 << 11;
    private static final int ENCRYPTED = 1;
    private static final int PLATFORM_UNIX = 3;
    private static final int FILE_TYPE_BITS = 0170000;
    private static final int SYMLINK_TYPE = 0120000;

    static final int STORED = 0;
    static final int DEFLATED = 8;
    static final int DEFLATE64 = 9;
    static final int BZIP2 = 12;

    /** One central-directory record: what is needed to check an entry and read its bytes. */
    record Entry(String name, int method, int flags, long compressedSize, long size, long localHeaderOffset, boolean unixSymlink) {
        boolean directory() {
            return name.endsWith("/");
        }
    }

    private final SeekableByteChannel channel;
    private final long size;
    private final ByteBuffer directory = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN).flip();
    private long directoryNext;
    private long entries;
    private final long records;
    private final ByteBuffer local = ByteBuffer.allocate(LOCAL_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    private final Inflater inflater = new Inflater(true);

    private ZipDirectoryReader(SeekableByteChannel channel, long size, long[] directory) {
        this.channel = channel;
        this.size = size;
        this.directoryNext = directory[0];
        this.records = directory[1];
    }

    /**
     * Finds the central directory of the zip in {@code channel} ({@code size} bytes); the reader owns and closes the
     * channel. Not a zip (no end-of-directory record): an IOException, and the channel is closed.
     */
    static ZipDirectoryReader open(SeekableByteChannel channel, long size) throws IOException {
        try {
            return new ZipDirectoryReader(channel, size, directory(channel, size));
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /**
     * The offset of the first central file header and the number of records, from the end record or its Zip64 version
     * when there is one.
     */
    private static long[] directory(SeekableByteChannel channel, long size) throws IOException {
        int tailBytes = (int) Math.min(size, EOCD_BYTES + MAGIC16);
        ByteBuffer tail = ByteBuffer.allocate(tailBytes).order(ByteOrder.LITTLE_ENDIAN);
        readFully(channel, size - tailBytes, tail);
        int at = tailBytes - EOCD_BYTES;
        while (at >= 0 && tail.getInt(at) != EOCD) {
            at--;
        }
        if (at < 0) {
            ByteBuffer head = ByteBuffer.allocate((int) Math.min(size, 4)).order(ByteOrder.LITTLE_ENDIAN);
            readFully(channel, 0, head);
            boolean zipStart = head.capacity() == 4 && head.getInt(0) == LOCAL_HEADER;
            throw new IOException(zipStart
                    ? "truncated zip: it starts with a zip entry but has no end-of-central-directory record (cut short in a copy or download?)"
                    : "not a zip archive: no zip entry at its start and no end-of-central-directory record");
        }
        long eocd = size - tailBytes + at;
        long start = tail.getInt(at + 16) & MAGIC32;
        long records = tail.getShort(at + 10) & MAGIC16;
        if (eocd >= 20) {
            ByteBuffer locator = ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN);
            readFully(channel, eocd - 20, locator);
            if (locator.getInt(0) == ZIP64_LOCATOR) {
                long zip64 = locator.getLong(8);
                if (zip64 < 0 || zip64 > eocd - 20 - 56) {
                    throw new IOException("the Zip64 locator points outside the archive (" + zip64 + ")");
                }
                ByteBuffer record = ByteBuffer.allocate(56).order(ByteOrder.LITTLE_ENDIAN);
                readFully(channel, zip64, record);
                if (record.getInt(0) != ZIP64_EOCD) {
                    throw new IOException("the Zip64 locator points at no Zip64 end of central directory record");
                }
                records = record.getLong(32);
                start = record.getLong(48);
            }
        }
        if (start < 0 || start > eocd) {
            throw new IOException("central directory offset " + start + " is outside the archive");
        }
        if (records < 0 || records > (eocd - start) / CENTRAL_BYTES) {
            throw new IOException("the end record declares " + records + " entries, more than the central directory holds");
        }
        return new long[] {start, records};
    }

    /** The number of records (files and directories) the end record declares. */
    long records() {
        return records;
    }

    /** The next entry of the central directory, or null after the last; a corrupt record is an IOException. */
    Entry next() throws IOException {
        if (!header()) {
            return null;
        }
        int at = directory.position();
        int platform = (directory.get(at + 5) & 0x0F);
        int flags = directory.getShort(at + 8) & MAGIC16;
        int method = directory.getShort(at + 10) & MAGIC16;
        long compressed = directory.getInt(at + 20) & MAGIC32;
        long uncompressed = directory.getInt(at + 24) & MAGIC32;
        int nameBytes = directory.getShort(at + 28) & MAGIC16;
        int extraBytes = directory.getShort(at + 30) & MAGIC16;
        int commentBytes = directory.getShort(at + 32) & MAGIC16;
        int diskStart = directory.getShort(at + 34) & MAGIC16;
        long externalAttributes = directory.getInt(at + 38) & MAGIC32;
        long offset = directory.getInt(at + 42) & MAGIC32;
        directory.position(at + CENTRAL_BYTES);
        byte[] rawName = take(nameBytes);
        byte[] extra = take(extraBytes);
        pass(commentBytes);

        String name = new String(rawName, StandardCharsets.UTF_8);
        ByteBuffer fields = ByteBuffer.wrap(extra).order(ByteOrder.LITTLE_ENDIAN);
        while (fields.remaining() >= 4) {
            int id = fields.getShort() & MAGIC16;
            int length = fields.getShort() & MAGIC16;
            if (length > fields.remaining()) {
                break; // a malformed field: the rest cannot be located
            }
            ByteBuffer field = fields.slice(fields.position(), length).order(ByteOrder.LITTLE_ENDIAN);
            fields.position(fields.position() + length);
            if (id == ZIP64_EXTRA) {
                // only the values whose 32-bit fields hold the marker are present, in this order
                if (uncompressed == MAGIC32 && field.remaining() >= 8) {
                    uncompressed = field.getLong();
                }
                if (compressed == MAGIC32 && field.remaining() >= 8) {
                    compressed = field.getLong();
                }
                if (offset == MAGIC32 && field.remaining() >= 8) {
                    offset = field.getLong();
                }
            } else if (id == UNICODE_PATH_EXTRA && (flags & UTF8_NAMES) == 0 && length > 5 && field.get(0) == 1) {
                CRC32 crc = new CRC32();
                crc.update(rawName);
                if ((int) crc.getValue() == field.getInt(1)) {
                    name = new String(extra, fields.position() - length + 5, length - 5, StandardCharsets.UTF_8);
                }
            }
        }
        if (diskStart != 0 && diskStart != MAGIC16) {
            throw new IOException("entry '" + name + "' is on disk " + diskStart + ": split archives are not read");
        }
        int unixMode = platform == PLATFORM_UNIX ? (int) (externalAttributes >> 16) & MAGIC16 : 0;
        return new Entry(name, method, flags, compressed, uncompressed, offset, (unixMode & FILE_TYPE_BITS) == SYMLINK_TYPE);
    }

    /** Passes over the next record without building its entry (for records another slice reads); false after the last. */
    boolean skip() throws IOException {
        if (!header()) {
            return false;
        }
        int at = directory.position();
        int variable = (directory.getShort(at + 28) & MAGIC16) + (directory.getShort(at + 30) & MAGIC16) + (directory.getShort(at + 32) & MAGIC16);
        directory.position(at + CENTRAL_BYTES);
        pass(variable);
        return true;
    }

    /**
     * Makes the next record's fixed header available at the buffer's position: true for a file header, false for a
     * record that ends the directory. Anything else is corruption, an IOException: entries after it cannot be located,
     * and stopping there quietly would drop them unreported.
     */
    private boolean header() throws IOException {
        if (!need(4)) {
            throw new EOFException("central directory cut short after " + entries + " entries");
        }
        int signature = directory.getInt(directory.position());
        if (signature == EOCD || signature == ZIP64_EOCD || signature == DIGITAL_SIGNATURE) {
            return false;
        }
        if (signature != CENTRAL_HEADER) {
            throw new IOException("central directory record " + (entries + 1) + " is corrupt (no header signature)");
        }
        entries++;
        if (!need(CENTRAL_BYTES)) {
            throw new EOFException("central directory header cut short");
        }
        return true;
    }

    /** The (decompressed) bytes of an entry; read them before the next call to {@link #open}. */
    InputStream open(Entry e) throws IOException {
        if ((e.flags() & ENCRYPTED) != 0) {
            throw new IOException("entry is encrypted");
        }
        local.clear();
        readFully(channel, e.localHeaderOffset(), local);
        if (local.getInt(0) != LOCAL_HEADER) {
            throw new IOException("no local file header at offset " + e.localHeaderOffset());
        }
        long start = e.localHeaderOffset() + LOCAL_BYTES + (local.getShort(26) & MAGIC16) + (local.getShort(28) & MAGIC16);
        InputStream bytes = new Range(start, Math.min(size, start + e.compressedSize()));
        return switch (e.method()) {
            case STORED -> bytes;
            case DEFLATED -> {
                inflater.reset();
                // raw deflate may want one byte past the data to see its end (as java.util.zip's ZipFile feeds it)
                int buffer = (int) Math.max(512, Math.min(1 << 16, e.compressedSize() + 1));
                yield new InflaterInputStream(new SequenceInputStream(bytes, new ByteArrayInputStream(new byte[1])), inflater, buffer);
            }
            case DEFLATE64 -> new Deflate64CompressorInputStream(bytes);
            case BZIP2 -> new BZip2CompressorInputStream(bytes);
            default -> throw new IOException("unsupported compression method " + e.method());
        };
    }

    /** Makes {@code n} bytes of the directory available in the buffer; false if the archive ends first. */
    private boolean need(int n) throws IOException {
        if (directory.remaining() >= n) {
            return true;
        }
        directory.compact();
        try {
            while (directory.position() < n) {
                int read = read(channel, directoryNext, directory);
                if (read < 0) {
                    break;
                }
                directoryNext += read;
            }
        } finally {
            directory.flip();
        }
        return directory.remaining() >= n;
    }

    private void pass(int n) throws IOException {
        while (n > 0) {
            if (!need(1)) {
                throw new EOFException("central directory cut short");
            }
            int step = Math.min(n, directory.remaining());
            directory.position(directory.position() + step);
            n -= step;
        }
    }

    private byte[] take(int n) throws IOException {
        if (!need(n)) {
            throw new EOFException("central directory cut short");
        }
        byte[] out = new byte[n];
        directory.get(out);
        return out;
    }

    private static void readFully(SeekableByteChannel channel, long position, ByteBuffer dst) throws IOException {
        while (dst.hasRemaining()) {
            int n = read(channel, position, dst);
            if (n < 0) {
                throw new EOFException("archive ends at " + position + " bytes, inside a header");
            }
            position += n;
        }
    }

    /** A positioned read: FileChannel's pread (one system call), else position then read. */
    private static int read(SeekableByteChannel channel, long position, ByteBuffer dst) throws IOException {
        if (channel instanceof FileChannel file) {
            return file.read(dst, position);
        }
        return channel.position(position).read(dst);
    }

    /** The bytes {@code [position, end)} of the archive. */
    private final class Range extends InputStream {
        private long position;
        private final long end;

        Range(long position, long end) {
            this.position = position;
            this.end = end;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            int n = (int) Math.min(len, end - position);
            if (n <= 0) {
                return -1;
            }
            int read = ZipDirectoryReader.read(channel, position, ByteBuffer.wrap(b, off, n));
            if (read > 0) {
                position += read;
            }
            return read;
        }
    }

    @Override
    public void close() throws IOException {
        inflater.end();
        channel.close();
    }
}
