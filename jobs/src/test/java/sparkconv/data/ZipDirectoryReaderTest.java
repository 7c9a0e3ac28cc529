package sparkconv.data;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

import org.apache.commons.compress.archivers.zip.Zip64Mode;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipArchiveOutputStream;
import org.apache.commons.compress.archivers.zip.ZipFile;
import org.apache.commons.compress.compressors.bzip2.BZip2CompressorOutputStream;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ZipDirectoryReaderTest {
    @TempDir
    Path dir;

    /** What a reader reports of an entry, comparable with commons-compress's ZipFile. */
    private record Seen(String name, boolean directory, boolean symlink, long size, String content) {
    }

    private static List<Seen> readStreaming(Path zip) throws IOException {
        List<Seen> out = new ArrayList<>();
        try (ZipDirectoryReader reader = ZipDirectoryReader.open(FileChannel.open(zip), Files.size(zip))) {
            for (ZipDirectoryReader.Entry e = reader.next(); e != null; e = reader.next()) {
                try (InputStream in = reader.open(e)) {
                    out.add(new Seen(e.name(), e.directory(), e.unixSymlink(), e.size(), Arrays.toString(in.readAllBytes())));
                }
            }
        }
        return out;
    }

    private static List<Seen> readWithZipFile(Path zip) throws IOException {
        List<Seen> out = new ArrayList<>();
        try (ZipFile file = new ZipFile(zip.toFile(), "UTF-8")) {
            for (ZipArchiveEntry e : Collections.list(file.getEntries())) {
                try (InputStream in = file.getInputStream(e)) {
                    out.add(new Seen(e.getName(), e.isDirectory(), e.isUnixSymlink(), e.getSize(), Arrays.toString(in.readAllBytes())));
                }
            }
        }
        return out;
    }

    /** Stored and deflated files, a directory, a symlink, a non-ASCII name and a comment, written by commons-compress. */
    private static void writeMixed(ZipArchiveOutputStream zip, boolean seekable) throws IOException {
        byte[] png = TestImages.grey(28, 28, 1, "png");
        ZipArchiveEntry folder = new ZipArchiveEntry("cat/");
        zip.putArchiveEntry(folder);
        zip.closeArchiveEntry();
        ZipArchiveEntry deflated = new ZipArchiveEntry("cat/a.png");
        deflated.setComment("a comment");
        zip.putArchiveEntry(deflated);
        zip.write(png);
        zip.closeArchiveEntry();
        if (seekable) { // a stored entry written to a stream needs its size and CRC up front
            ZipArchiveEntry stored = new ZipArchiveEntry("dog/b.png");
            stored.setMethod(ZipArchiveEntry.STORED);
            zip.putArchiveEntry(stored);
            zip.write(TestImages.grey(28, 28, 2, "png"));
            zip.closeArchiveEntry();
        }
        ZipArchiveEntry link = new ZipArchiveEntry("dog/link.png");
        link.setUnixMode(0120777);
        zip.putArchiveEntry(link);
        zip.write("../cat/a.png".getBytes(StandardCharsets.UTF_8));
        zip.closeArchiveEntry();
        zip.putArchiveEntry(new ZipArchiveEntry("katze/bild-\u00fc\u00df.png"));
        zip.write(TestImages.grey(28, 28, 3, "png"));
        zip.closeArchiveEntry();
    }

    @Test
    void readsWhatZipFileReadsInZip32Zip64AndDataDescriptorArchives() throws Exception {
        for (Zip64Mode mode : List.of(Zip64Mode.AsNeeded, Zip64Mode.Always)) {
            Path zip = dir.resolve("mixed-" + mode + ".zip");
            try (ZipArchiveOutputStream out = new ZipArchiveOutputStream(zip.toFile())) {
                out.setUseZip64(mode);
                writeMixed(out, true);
            }
            List<Seen> streamed = readStreaming(zip);
            assertEquals(readWithZipFile(zip), streamed, mode.toString());
            assertEquals(List.of("cat/", "cat/a.png", "dog/b.png", "dog/link.png", "katze/bild-\u00fc\u00df.png"),
                    streamed.stream().map(Seen::name).toList());
        }
        Path streamedZip = dir.resolve("streamed.zip"); // not seekable while written: sizes follow the data
        try (OutputStream file = Files.newOutputStream(streamedZip); ZipArchiveOutputStream out = new ZipArchiveOutputStream(file)) {
            writeMixed(out, false);
        }
        assertEquals(readWithZipFile(streamedZip), readStreaming(streamedZip));
    }

    @Test
    void aBzip2EntryIsDecompressed() throws Exception {
        byte[] png = TestImages.grey(28, 28, 4, "png");
        ByteArrayOutputStream packed = new ByteArrayOutputStream();
        try (BZip2CompressorOutputStream bz = new BZip2CompressorOutputStream(packed)) {
            bz.write(png);
        }
        Path zip = dir.resolve("bzip2.zip");
        try (ZipArchiveOutputStream out = new ZipArchiveOutputStream(zip.toFile())) {
            ZipArchiveEntry e = new ZipArchiveEntry("cat/a.png");
            e.setMethod(ZipArchiveEntry.STORED);
            out.putArchiveEntry(e);
            out.write(packed.toByteArray());
            out.closeArchiveEntry();
        }
        // commons-compress writes only stored and deflated entries: mark the stored bzip2 stream as method 12, as 7-Zip writes it
        byte[] bytes = Files.readAllBytes(zip);
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putShort(8, (short) ZipDirectoryReader.BZIP2);
        for (int i = 0; i + 4 <= bytes.length; i++) {
            if (b.getInt(i) == 0x02014b50) {
                b.putShort(i + 10, (short) ZipDirectoryReader.BZIP2);
            }
        }
        Files.write(zip, bytes);
        List<Seen> seen = readStreaming(zip);
        assertEquals(1, seen.size());
        assertEquals(Arrays.toString(png), seen.get(0).content());
    }

    @Test
    void aCorruptDirectoryRecordIsReportedAfterTheEntriesBeforeIt() throws Exception {
        byte[] png = TestImages.grey(28, 28, 1, "png");
        Path zip = dir.resolve("corrupt.zip");
        List<TestImages.Entry> entries = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            entries.add(TestImages.Entry.file("cat/" + i + ".png", png));
        }
        TestImages.zip(zip, entries.toArray(TestImages.Entry[]::new));
        byte[] bytes = Files.readAllBytes(zip);
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int seen = 0;
        for (int i = 0; i + 4 <= bytes.length; i++) {
            if (b.getInt(i) == 0x02014b50 && ++seen == 4) {
                b.putInt(i, 0); // the fourth directory record loses its signature
            }
        }
        Files.write(zip, bytes);

        List<ImageEntry> read = new ArrayList<>();
        for (int slice = 0; slice < 2; slice++) {
            ArchiveEntries.open(zip.toUri().toString(), ArchiveEntries.Kind.ZIP, slice, 2, 1 << 20, new Configuration()).forEachRemaining(read::add);
        }
        assertEquals(List.of("cat/0.png", "cat/1.png", "cat/2.png", "entry #3"), read.stream().map(ImageEntry::key).sorted().toList());
        ImageEntry corrupt = read.stream().filter(e -> !e.ok()).findFirst().orElseThrow();
        assertEquals("unreadable", corrupt.reason());
        assertTrue(corrupt.detail().contains("record 4 is corrupt"), corrupt.detail());
    }

    @Test
    void anEndRecordDeclaringMoreEntriesThanFitIsOneUnreadableArchive() throws Exception {
        Path zip = dir.resolve("lying.zip");
        TestImages.zip(zip, TestImages.Entry.file("cat/a.png", TestImages.grey(28, 28, 1, "png")));
        byte[] bytes = Files.readAllBytes(zip);
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putShort(bytes.length - 22 + 10, (short) 60000);
        Files.write(zip, bytes);
        assertEquals(-1, ArchiveEntries.zipRecords(zip.toUri().toString(), new Configuration()));
        List<ImageEntry> read = new ArrayList<>();
        for (int slice = 0; slice < 3; slice++) {
            ArchiveEntries.open(zip.toUri().toString(), ArchiveEntries.Kind.ZIP, slice, 3, 1 << 20, new Configuration()).forEachRemaining(read::add);
        }
        assertEquals(1, read.size());
        assertTrue(read.get(0).detail().contains("declares 60000 entries"), read.get(0).detail());
    }

    @Test
    void aTruncatedArchiveCannotBeOpened() throws Exception {
        Path zip = dir.resolve("cut.zip");
        TestImages.zip(zip, TestImages.Entry.file("cat/a.png", TestImages.grey(28, 28, 1, "png")));
        byte[] bytes = Files.readAllBytes(zip);
        Files.write(zip, Arrays.copyOf(bytes, bytes.length - 10));
        IOException e = assertThrows(IOException.class, () -> readStreaming(zip));
        assertTrue(e.getMessage().startsWith("truncated zip:") && e.getMessage().contains("no end-of-central-directory record"), e.getMessage());
        ImageEntry only = ArchiveEntries.open(zip.toUri().toString(), ArchiveEntries.Kind.ZIP, 0, 1, 1 << 20, new Configuration()).next();
        assertEquals("unreadable", only.reason());

        Path notZip = dir.resolve("notes.zip");
        Files.write(notZip, TestImages.text("these are notes, not an archive"));
        IOException other = assertThrows(IOException.class, () -> readStreaming(notZip));
        assertTrue(other.getMessage().startsWith("not a zip archive:"), other.getMessage());
    }
}
