package sparkconv.shards;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import sparkconv.SparkconvException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ManifestTest {
    private static Manifest manifest(Map<String, Long> quarantined) {
        return new Manifest(Manifest.FORMAT, Manifest.VERSION, "test", new Manifest.Shape(1, 2, 2), List.of("a", "b"), 4,
                new Manifest.Normalisation("standardise", 1 / 255.0, 0.5, 0.25),
                Map.of("train", new Manifest.Split(1, new long[]{1, 0}, List.of(new Manifest.Shard("train/shard-00000.bin", 1, "00")))),
                List.of(), Map.of("job", "test"), quarantined);
    }

    @Test
    void quarantineCountsAreKeptAndAManifestWithoutThemStillReads() {
        Manifest counted = manifest(Map.of("checksum-mismatch", 2L, "bad-label", 1L));
        assertEquals(counted.quarantined(), Manifest.fromJson("m", counted.toJson()).quarantined());
        assertTrue(counted.toJson().contains("\"quarantined\""));

        String older = manifest(null).toJson();
        assertFalse(older.contains("quarantined"), "jobs that quarantine nothing write the manifest as before");
        Manifest read = Manifest.fromJson("m", older);
        assertNull(read.quarantined());
    }

    @Test
    void aNewerVersionIsRefusedClearly() {
        String newer = manifest(Map.of()).toJson().replace("\"version\" : " + Manifest.VERSION, "\"version\" : " + (Manifest.VERSION + 1));
        SparkconvException e = assertThrows(SparkconvException.class, () -> Manifest.fromJson("dir/manifest.json", newer));
        assertEquals("dir/manifest.json: manifest version " + (Manifest.VERSION + 1) + " is newer than this sparkconv reads ("
                + Manifest.VERSION + "); upgrade sparkconv", e.getMessage());
    }
}
