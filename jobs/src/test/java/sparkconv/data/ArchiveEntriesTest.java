package sparkconv.data;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ArchiveEntriesTest {
    @TempDir
    Path dir;

    private static List<ImageEntry> read(Path archive, ArchiveEntries.Kind kind, int slices, long max) {
        List<ImageEntry> out = new ArrayList<>();
        for (int s = 0; s < slices; s++) {
            ArchiveEntries.open(archive.toUri().toString(), kind, s, slices, max, new Configuration()).forEachRemaining(out::add);
        }
        return out;
    }

    private static Map<String, String> reasonsByKey(List<ImageEntry> entries) {
        Map<String, String> m = new TreeMap<>();
        entries.forEach(e -> m.put(e.key(), e.reason() == null ? "ok" : e.reason()));
        return m;
    }

    @Test
    void zipEntriesAreSplitAcrossSlicesWithoutLossOrOverlap() throws Exception {
        byte[] a = TestImages.grey(28, 28, 1, "png");
        byte[] b = TestImages.grey(28, 28, 2, "png");
        Path zip = dir.resolve("images.zip");
        TestImages.zip(zip, TestImages.Entry.file("cat/a.png", a), TestImages.Entry.file("dog/b.png", b),
                TestImages.Entry.file("dog/c.png", b));
        List<ImageEntry> entries = read(zip, ArchiveEntries.Kind.ZIP, 2, 1 << 20);
        assertEquals(Map.of("cat/a.png", "ok", "dog/b.png", "ok", "dog/c.png", "ok"), reasonsByKey(entries));
        ImageEntry first = entries.stream().filter(e -> e.key().equals("cat/a.png")).findFirst().orElseThrow();
        assertArrayEquals(a, first.content());
        assertEquals("cat", first.label());
        assertEquals(zip.toUri() + "!/cat/a.png", first.path());
    }

    @Test
    void zipSlicesAreContiguousRunsOfTheDirectoryThatReadEveryFileOnce() throws Exception {
        List<TestImages.Entry> files = new ArrayList<>();
        for (int i = 0; i < 23; i++) {
            files.add(TestImages.Entry.file(String.format("c%d/%02d.png", i % 3, i), new byte[] {(byte) i}));
        }
        Path zip = dir.resolve("many.zip");
        TestImages.zip(zip, files.toArray(TestImages.Entry[]::new));
        assertEquals(23, ArchiveEntries.zipRecords(zip.toUri().toString(), new Configuration()));
        List<String> inOrder = files.stream().map(TestImages.Entry::name).toList();
        for (int slices : List.of(1, 2, 5, 23, 30)) {
            List<String> read = new ArrayList<>();
            for (int s = 0; s < slices; s++) {
                List<String> slice = new ArrayList<>();
                ArchiveEntries.open(zip.toUri().toString(), ArchiveEntries.Kind.ZIP, s, slices, 1 << 20, new Configuration())
                        .forEachRemaining(e -> slice.add(e.key()));
                assertTrue(slice.size() <= (23 + slices - 1) / slices, slices + " slices: " + slice);
                read.addAll(slice);
            }
            assertEquals(inOrder, read, slices + " slices, concatenated in order, are the archive");
        }
    }

    @Test
    void aCorruptTarHeaderIsReportedOnceWhateverTheSlices() throws Exception {
        List<TestImages.Entry> files = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            files.add(TestImages.Entry.file("cat/" + i + ".png", new byte[] {(byte) i}));
        }
        Path tar = dir.resolve("broken.tar");
        TestImages.tar(tar, false, files.toArray(TestImages.Entry[]::new));
        byte[] bytes = java.nio.file.Files.readAllBytes(tar);
        java.util.Arrays.fill(bytes, 2 * 1024, 2 * 1024 + 200, (byte) 'x'); // name to checksum of the third header (512-byte header + data block each)
        java.nio.file.Files.write(tar, bytes);
        List<ImageEntry> entries = read(tar, ArchiveEntries.Kind.TAR, 3, 1 << 20);
        assertEquals(Map.of("cat/0.png", "ok", "cat/1.png", "ok", "entry #2", "unreadable"), reasonsByKey(entries));
        assertEquals(3, entries.size());
    }

    @Test
    void zipSlipNamesAndSymlinksAreQuarantined() throws Exception {
        byte[] png = TestImages.grey(28, 28, 1, "png");
        Path zip = dir.resolve("evil.zip");
        TestImages.zip(zip, TestImages.Entry.file("cat/ok.png", png), TestImages.Entry.file("../../etc/cat/x.png", png),
                TestImages.Entry.file("/abs/cat/y.png", png), TestImages.Entry.file("cat/../../z.png", png),
                TestImages.Entry.symlink("cat/link.png", "/etc/passwd"));
        assertEquals(Map.of("cat/ok.png", "ok", "../../etc/cat/x.png", "unsafe-path", "/abs/cat/y.png", "unsafe-path",
                "cat/../../z.png", "unsafe-path", "cat/link.png", "symlink"), reasonsByKey(read(zip, ArchiveEntries.Kind.ZIP, 1, 1 << 20)));
    }

    @Test
    void tarGzSlipNamesLinksAndOversizedEntriesAreQuarantined() throws Exception {
        byte[] png = TestImages.grey(28, 28, 1, "png");
        Path tgz = dir.resolve("evil.tar.gz");
        TestImages.tar(tgz, true, TestImages.Entry.file("dog/ok.png", png), TestImages.Entry.file("../dog/up.png", png),
                TestImages.Entry.file("/etc/dog/abs.png", png), TestImages.Entry.symlink("dog/link.png", "../../secret"),
                TestImages.Entry.file("dog/big.png", new byte[5000]));
        List<ImageEntry> entries = read(tgz, ArchiveEntries.Kind.TAR, 3, 4096);
        assertEquals(Map.of("dog/ok.png", "ok", "../dog/up.png", "unsafe-path", "/etc/dog/abs.png", "unsafe-path",
                "dog/link.png", "symlink", "dog/big.png", "too-large"), reasonsByKey(entries));
        assertArrayEquals(png, entries.stream().filter(ImageEntry::ok).findFirst().orElseThrow().content());
    }

    @Test
    void anArchiveThatIsNotOneIsOneUnreadableEntry() throws Exception {
        Path fake = dir.resolve("fake.zip");
        TestImages.write(fake, TestImages.text("not a zip at all"));
        List<ImageEntry> entries = read(fake, ArchiveEntries.Kind.ZIP, 2, 1 << 20);
        assertEquals(1, entries.size());
        assertEquals("unreadable", entries.get(0).reason());
        assertNull(entries.get(0).content());
    }

    @Test
    void unsafeNames() {
        for (String bad : List.of("/x/y.png", "../y.png", "a/../../y.png", "C:/x.png", "a/..")) {
            assertTrue(ArchiveEntries.unsafe(bad), bad);
        }
        for (String ok : List.of("a/b.png", "a..b/c.png", "..a/b.png")) {
            assertEquals(false, ArchiveEntries.unsafe(ok), ok);
        }
    }
}
