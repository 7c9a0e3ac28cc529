package sparkconv.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;


/** Every Spark job a command starts carries its command line, and its step, as the description the Spark UI lists. */
class SparkJobDescriptionsTest {
    @TempDir
    Path tmp;

    @Test
    void everyJobOfACommandIsDescribedByItsCommandLineAndStep() throws Exception {
        Path csv = Files.writeString(tmp.resolve("AAA.csv"), "Date,Open,High,Low,Close\n2020-01-02,10,11,9,10\n2020-01-03,10,12,9,11\n");
        List<String> descriptions = CommandHarness.okDescribed("nifty", "ingest", "--csv", csv.toString(), "--out",
                tmp.resolve("ingested").toString()).descriptions();
        String command = "nifty ingest --csv " + tmp.resolve("AAA.csv") + " --out " + tmp.resolve("ingested");
        assertTrue(descriptions.size() >= 2, "jobs seen: " + descriptions);
        for (String d : descriptions) {
            assertTrue(d.startsWith(command), "every job names its command line: " + d);
        }
        assertTrue(descriptions.contains(command + ": parse 1 CSV file(s)"), descriptions.toString());
        assertTrue(descriptions.stream().anyMatch(d -> d.equals(command + ": write 2 price rows and 0 quarantined rows as Parquet")),
                descriptions.toString());
    }
}
