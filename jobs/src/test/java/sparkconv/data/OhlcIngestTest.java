package sparkconv.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import sparkconv.LocalSpark;
import sparkconv.SparkconvException;
import sparkconv.TestData;
import sparkconv.cli.Main;

class OhlcIngestTest {
    @TempDir
    Path tmp;

    @Test
    void writesValidatedAndQuarantineParquetWithCounts() throws Exception {
        Path a = Files.writeString(tmp.resolve("AAA.csv"), "Date,Open,High,Low,Close,Volume\n"
                + "2020-01-02,10,11,9,10,100\n2020-01-03,10,11,9,10.5,200\n2020-01-06,10,9,9,10,100\n");
        Path b = Files.writeString(tmp.resolve("BBB.csv"), ",Date,Open,High,Low,Close\n"
                + "0,02-Jan-2020,\"1,000\",\"1,100\",900,\"1,050\"\n1,02-Jan-2020,1000,1100,900,1050\n");
        SparkSession spark = LocalSpark.get();
        String out = tmp.resolve("ingested").toString();
        OhlcIngest.Summary s = OhlcIngest.ingest(spark, new OhlcIngest.Params(List.of(a.toString(), b.toString()), out, false));
        assertEquals(3, s.valid());
        assertEquals(2, s.quarantined());
        assertEquals(Map.of("AAA", 2L, "BBB", 1L), s.rowsBySymbol());
        assertEquals(Map.of("high-below-open-close", 1L, "duplicate-date", 1L), s.quarantinedByReason());

        List<OhlcRow> rows = OhlcIngest.readRows(spark, out);
        assertEquals(List.of("AAA", "AAA", "BBB"), rows.stream().map(OhlcRow::symbol).toList());
        assertEquals(1050.0, rows.get(2).close());
        assertTrue(Double.isNaN(rows.get(2).volume()));
        List<Row> q = spark.read().parquet(tmp.resolve("ingested/quarantine").toString()).orderBy("source", "line").collectAsList();
        assertEquals(2, q.size());
        assertEquals("high-below-open-close", q.get(0).getAs("reason"));
        assertEquals(4, (int) q.get(0).getAs("line"));
        assertEquals("duplicate-date", q.get(1).getAs("reason"));
        assertTrue(((String) q.get(1).getAs("source")).endsWith("BBB.csv"));
    }

    @Test
    void badFileFailsWithOneLineAndWritesNothing() throws Exception {
        Path ok = Files.writeString(tmp.resolve("OK.csv"), "Date,Open,High,Low,Close\n2020-01-02,10,11,9,10\n");
        Path bad = Files.writeString(tmp.resolve("BAD.csv"), "when,price\n2020-01-02,10\n");
        String out = tmp.resolve("never").toString();
        var e = assertThrows(SparkconvException.class,
                () -> OhlcIngest.ingest(LocalSpark.get(), new OhlcIngest.Params(List.of(ok.toString(), bad.toString()), out, false)));
        assertTrue(e.getMessage().contains("BAD.csv:1: unknown header"), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("never")));
        try (var left = Files.list(tmp)) {
            assertTrue(left.noneMatch(p -> p.getFileName().toString().contains("staging")));
        }
    }

    @Test
    void cliExitsTwoOnMissingFile() {
        assertEquals(2, Main.run("nifty", "ingest", "--csv", tmp.resolve("absent.csv").toString(), "--out",
                tmp.resolve("o").toString(), "--master", "local[2]"));
    }

    @Test
    void realNiftyCsvIngestsCleanly() {
        Path csv = TestData.niftyCsv();
        OhlcIngest.Summary s = OhlcIngest.ingest(LocalSpark.get(), new OhlcIngest.Params(List.of(csv.toString()), tmp.resolve("nifty").toString(), false));
        assertEquals(4954, s.valid());
        assertEquals(0, s.quarantined());
        assertEquals(Map.of("NIFTY50", 4954L), s.rowsBySymbol());
    }
}
