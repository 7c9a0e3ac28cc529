package sparkconv.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import sparkconv.SparkconvException;

/** StagedCommit on the local file system: replacing keeps the old output until the new one is in place, and leftovers go. */
class StagedCommitTest {
    final Configuration conf = new Configuration();

    @Test
    void replacingMovesTheNewOutputInAndRemovesWhatKilledWritersOfTheSameTargetLeft(@TempDir Path dir) throws IOException {
        Path out = Files.createDirectories(dir.resolve("date=2026-01-01"));
        Files.writeString(out.resolve("old.txt"), "old");
        // a killed writer of this target (staging) and one killed between moving the old output aside and the new in
        Files.createDirectories(dir.resolve(".date=2026-01-01.staging-dead"));
        Files.writeString(Files.createDirectories(dir.resolve(".date=2026-01-01.replaced-dead")).resolve("old.txt"), "older");
        Files.createDirectories(dir.resolve(".date=2026-01-02.staging-other"));

        String result = StagedCommit.commit(hadoop(out), conf, true, "test output", staging -> {
            Path s = Files.createDirectories(Path.of(staging.toUri()));
            Files.writeString(s.resolve("new.txt"), "new");
            return "written";
        });

        assertEquals("written", result);
        assertEquals(List.of("_SUCCESS", "new.txt"), names(out), "the new output, complete, replaced the old one");
        assertEquals(List.of(".date=2026-01-02.staging-other", "date=2026-01-01"), names(dir),
                "leftovers of this target removed (another target's kept), nothing of this commit left");
    }

    @Test
    void aFailedWriteLeavesTheOldOutputInPlace(@TempDir Path dir) throws IOException {
        Path out = Files.createDirectories(dir.resolve("scores"));
        Files.writeString(out.resolve("old.txt"), "old");
        SparkconvException e = assertThrows(SparkconvException.class, () -> StagedCommit.commit(hadoop(out), conf, true, "scores",
                staging -> {
                    Files.createDirectories(Path.of(staging.toUri()));
                    throw new IOException("disk full");
                }));
        assertEquals(hadoop(out) + ": could not write scores: disk full", e.getMessage());
        assertEquals(List.of("old.txt"), names(out));
        assertEquals(List.of("scores"), names(dir), "the staging directory is removed");

        assertThrows(StagedCommit.TargetExists.class, () -> StagedCommit.commit(hadoop(out), conf, false, "scores", staging -> {
            Files.createDirectories(Path.of(staging.toUri()));
            return null;
        }));
        assertEquals(List.of("old.txt"), names(out), "without replace an existing output stays");
        assertEquals(List.of("scores"), names(dir));
    }

    static org.apache.hadoop.fs.Path hadoop(Path p) {
        return new org.apache.hadoop.fs.Path("file://" + p.toAbsolutePath());
    }

    /** Names in a directory, sorted, without Hadoop's local checksum files. */
    static List<String> names(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(f -> f.getFileName().toString()).filter(n -> !n.endsWith(".crc")).sorted().toList();
        }
    }
}
