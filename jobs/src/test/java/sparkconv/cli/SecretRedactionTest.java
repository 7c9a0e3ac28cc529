package sparkconv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import sparkconv.TestData;
import sparkconv.pipeline.Pipeline;
import sparkconv.pipeline.PipelineSpec;
import sparkconv.spark.Redaction;

/**
 * What sparkconv itself prints of Spark settings hides a secret the way Spark's own pages do (spark.redaction.regex,
 * through Spark's Utils.redact): the command line every job carries as its description (Spark UI, event log) and a
 * pipeline's plan and progress lines. The job itself still gets the value.
 */
class SecretRedactionTest {
    static final String SECRET = "0f1e2d3c4b5a69788796a5b4c3d2e1f0-not-for-logs";
    static final String REDACTED = "*********(redacted)";

    @TempDir
    Path tmp;

    @Test
    void aJobsDescriptionShowsASecretConfRedacted() throws Exception {
        Path csv = Files.writeString(tmp.resolve("AAA.csv"), "Date,Open,High,Low,Close\n2020-01-02,10,11,9,10\n2020-01-03,10,12,9,11\n");
        // the settings first: the UI's descriptions are cut at 200 characters
        CommandHarness.Described run = CommandHarness.okDescribed("nifty", "ingest", "--conf", "spark.sparkconv.test.secret=" + SECRET,
                "--conf=spark.sparkconv.test.password=" + SECRET, "--csv", csv.toString(), "--out", tmp.resolve("ingested").toString());
        List<String> descriptions = run.descriptions();
        CommandHarness.Result r = run.result();
        assertFalse(descriptions.isEmpty(), "the command started Spark jobs");
        for (String d : descriptions) {
            assertFalse(d.contains(SECRET), "a job's description holds the secret: " + d);
            assertTrue(d.contains("--conf spark.sparkconv.test.secret=" + REDACTED + " --conf=spark.sparkconv.test.password=" + REDACTED), d);
        }
        assertFalse(r.out().contains(SECRET), r.out());
    }

    @Test
    void aPipelinesPlanAndProgressShowASecretConfRedactedWhileItsStagesGetTheValue() throws Exception {
        Path spec = PipelineRunTest.SPEC;
        Map<String, String> sets = Map.of("data", TestData.fashionMnist().toString(), "root", tmp.toString(), "limit", "1000",
                "validation", "200", "epochs", "1");
        Map<String, String> spark = new LinkedHashMap<>();
        spark.put("spark.master", "local[2]");
        spark.put("spark.authenticate.secret", SECRET);
        List<String> printed = new ArrayList<>();
        List<Pipeline.StageOutcome> plan = new Pipeline(PipelineSpec.parse(spec.toString(), Files.readString(spec), sets),
                new PipelineCommand.CliCommands(), new Configuration(), printed::add).run(null, spark, true);
        assertEquals(3, printed.size(), printed.toString());
        for (String line : printed) {
            assertFalse(line.contains(SECRET), "a printed plan line holds the secret: " + line);
            assertTrue(line.contains("--conf spark.authenticate.secret=" + REDACTED), line);
        }
        for (Pipeline.StageOutcome stage : plan) {
            assertTrue(stage.argv().contains("spark.authenticate.secret=" + SECRET), "the stage runs with the secret: " + stage.stage());
        }
    }

    @Test
    void aDeploymentsOwnRedactionRegexIsHonoured() {
        SparkConf conf = new SparkConf(false).set("spark.redaction.regex", "(?i)vault");
        assertEquals(List.of("--conf", "spark.vault.key=" + REDACTED, "--conf", "spark.authenticate.secret=" + SECRET, "--out", "x"),
                Redaction.commandLine(List.of("--conf", "spark.vault.key=abc", "--conf", "spark.authenticate.secret=" + SECRET, "--out", "x"), conf));
        // Spark's rule: a value that looks like a secret is hidden whatever its key
        assertEquals(List.of("--conf", "spark.executorEnv.X=" + REDACTED, "--conf", "nokey"),
                Redaction.commandLine(List.of("--conf", "spark.executorEnv.X=my-password-is-this", "--conf", "nokey"), new SparkConf(false)));
    }
}
