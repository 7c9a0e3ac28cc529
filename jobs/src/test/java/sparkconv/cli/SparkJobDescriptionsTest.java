package sparkconv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import org.apache.spark.SparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import sparkconv.LocalSpark;

/** Every Spark job a command starts carries its command line, and its step, as the description the Spark UI lists. */
class SparkJobDescriptionsTest {
    @TempDir
    Path tmp;

    @Test
    void everyJobOfACommandIsDescribedByItsCommandLineAndStep() throws Exception {
        SparkContext sc = LocalSpark.get().sparkContext();
        List<String> descriptions = Collections.synchronizedList(new ArrayList<>());
        SparkListener listener = new SparkListener() {
            @Override
            public void onJobStart(SparkListenerJobStart job) {
                descriptions.add(String.valueOf(job.properties().getProperty("spark.job.description")));
            }
        };
        sc.addSparkListener(listener);
        try {
            Path csv = Files.writeString(tmp.resolve("AAA.csv"), "Date,Open,High,Low,Close\n2020-01-02,10,11,9,10\n2020-01-03,10,12,9,11\n");
            String out = tmp.resolve("ingested").toString();
            CommandHarness.Result r = CommandHarness.run("nifty", "ingest", "--csv", csv.toString(), "--out", out);
            assertEquals(0, r.code(), r.errors().toString());
            sc.listenerBus().waitUntilEmpty(10_000);
        } finally {
            sc.removeSparkListener(listener);
        }
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
