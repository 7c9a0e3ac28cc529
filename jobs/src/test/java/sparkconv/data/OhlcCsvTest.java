package sparkconv.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;

import sparkconv.SparkconvException;

class OhlcCsvTest {
    private static OhlcCsv.Result read(String text) {
        return OhlcCsv.sequence(List.of(OhlcCsv.parse("t.csv", text, "T")));
    }

    private static Map<Integer, String> reasonsByLine(OhlcCsv.Result r) {
        return r.quarantined().stream().collect(Collectors.toMap(QuarantinedRow::line, QuarantinedRow::reason));
    }

    @Test
    void readsPandasYahooLayoutWithRowNumbers() {
        OhlcCsv.Result r = read(",Date,Open,High,Low,Close,Volume\n"
                + "0,2000-01-03,1482.15,1592.9,1482.15,1592.2,25358322.0\n"
                + "1,2000-01-04,1594.4,1641.95,1594.4,1638.7,38787872.0\n");
        assertEquals(2, r.rows().size());
        assertEquals(new OhlcRow("T", LocalDate.of(2000, 1, 4), 1594.4, 1641.95, 1594.4, 1638.7, 38787872.0), r.rows().get(1));
        assertTrue(r.quarantined().isEmpty());
    }

    @Test
    void readsNseLayoutWithQuotedThousandsAndMonthNames() {
        OhlcCsv.Result r = read("\"Date \",\"Open \",\"High \",\"Low \",\"Close \",\"Shares Traded \",\"Turnover (Rs. Cr)\"\n"
                + "\"03-JAN-2000\",\"1,482.15\",\"1,592.90\",\"1,482.15\",\"1,592.20\",\"25,358,322\",\"1,234.5\"\n"
                + "04-Jan-2000,\"1,594.40\",\"1,641.95\",\"1,594.40\",\"1,638.70\",\"38,787,872\",\"99\"\n");
        assertEquals(List.of(LocalDate.of(2000, 1, 3), LocalDate.of(2000, 1, 4)), r.rows().stream().map(OhlcRow::date).toList());
        assertEquals(1482.15, r.rows().get(0).open());
        assertEquals(25_358_322.0, r.rows().get(0).volume());
    }

    @Test
    void yahooAdjCloseIsIgnoredAndNoVolumeGivesNaN() {
        OhlcCsv.Result r = read("Date,Open,High,Low,Close,Adj Close\n2020-01-02,10,11,9,10.5,3.0\n");
        assertEquals(10.5, r.rows().get(0).close());
        assertTrue(Double.isNaN(r.rows().get(0).volume()));
    }

    @Test
    void symbolColumnSplitsSymbolsAndDatesAreCheckedPerSymbol() {
        OhlcCsv.Result r = read("Symbol,Date,Open,High,Low,Close,Volume\n"
                + "AAA,2020-01-02,10,11,9,10,5\n"
                + "BBB,2020-01-02,20,21,19,20,5\n"
                + "AAA,2020-01-03,10,11,9,10,5\n"
                + "BBB,2020-01-02,20,21,19,20,5\n");
        assertEquals(3, r.rows().size());
        assertEquals(Map.of(5, "duplicate-date"), reasonsByLine(r));
        assertEquals("BBB", r.quarantined().get(0).symbol());
    }

    @Test
    void everyBrokenRowIsQuarantinedWithItsReason() {
        OhlcCsv.Result r = read("Date,Open,High,Low,Close,Volume\n"
                + "2020-01-01,10,11,9,10,100\n"             // 2 ok
                + "2020-01-02,,11,9,10,100\n"               // 3 missing price
                + "2020-01-03,abc,11,9,10,100\n"            // 4 non-numeric
                + "2020-01-06,NaN,11,9,10,100\n"            // 5 NaN
                + "2020-01-07,0,11,9,10,100\n"              // 6 price <= 0
                + "2020-01-08,10,10.5,9,11,100\n"           // 7 high below close
                + "2020-01-09,10,11,10.2,10.5,100\n"        // 8 low above open
                + "2020-01-10,10,11,9,10,100\n"             // 9 ok
                + "2020-01-10,10,11,9,10,100\n"             // 10 duplicate
                + "2020-01-08,10,11,9,10,100\n"             // 11 out of order
                + "2020-13-45,10,11,9,10,100\n"             // 12 bad date
                + "2020-01-13,10,11,9\n"                    // 13 too few fields
                + "2020-01-14,10,11,9,10,-5\n"              // 14 negative volume
                + "2020-01-15,null,null,null,null,null\n"); // 15 Yahoo holiday row
        assertEquals(2, r.rows().size());
        assertEquals(Map.ofEntries(Map.entry(3, "missing-price"), Map.entry(4, "non-numeric-price"), Map.entry(5, "nan-price"),
                Map.entry(6, "non-positive-price"), Map.entry(7, "high-below-open-close"), Map.entry(8, "low-above-open-close"),
                Map.entry(10, "duplicate-date"), Map.entry(11, "out-of-order-date"), Map.entry(12, "bad-date"),
                Map.entry(13, "field-count"), Map.entry(14, "bad-volume"), Map.entry(15, "missing-price")), reasonsByLine(r));
        assertTrue(r.quarantined().stream().allMatch(q -> q.source().equals("t.csv") && !q.detail().isEmpty()));
    }

    @Test
    void newestFirstFileIsReadOldestFirst() {
        OhlcCsv.Result r = read("Date,Open,High,Low,Close\n2020-01-03,10,11,9,10\n2020-01-02,10,11,9,10\n2020-01-01,10,11,9,10\n");
        assertEquals(LocalDate.of(2020, 1, 1), r.rows().get(0).date());
        assertTrue(r.quarantined().isEmpty());
    }

    @Test
    void unknownHeaderEmptyFileAndNoUsableRowsAreOneLineErrors() {
        var header = assertThrows(SparkconvException.class, () -> OhlcCsv.parse("x.csv", "name,age\nbob,3\n", "X"));
        assertTrue(header.getMessage().startsWith("x.csv:1: unknown header"), header.getMessage());
        assertTrue(header.getMessage().contains("missing Date, Open, High, Low, Close"), header.getMessage());
        var empty = assertThrows(SparkconvException.class, () -> OhlcCsv.parse("e.csv", "\n\n", "E"));
        assertTrue(empty.getMessage().startsWith("e.csv: empty file"), empty.getMessage());
        var unusable = assertThrows(SparkconvException.class,
                () -> OhlcCsv.parse("u.csv", "Date,Open,High,Low,Close\n2020-01-01,-1,1,1,1\n", "U"));
        assertTrue(unusable.getMessage().startsWith("u.csv: no usable rows (1 rejected, first at line 2"), unusable.getMessage());
        assertTrue(!unusable.getMessage().contains("\n"));
    }

    @Test
    void symbolFromFileNameDropsDirectoryAndExtension() {
        assertEquals("NIFTY50", OhlcCsv.symbolFromFileName("file:/a/b/NIFTY50.csv"));
    }
}
