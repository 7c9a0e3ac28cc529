package sparkconv.cli;

import org.apache.hadoop.conf.Configuration;
import java.util.List;
import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import sparkconv.data.OhlcIngest;
import sparkconv.spark.Fs;

@Command(name = "ingest", mixinStandardHelpOptions = true,
        description = "Read daily OHLC(V) CSV files (NSE or Yahoo layouts) into a validated Parquet table (<out>/prices) "
                + "and a quarantine Parquet of rejected rows with their reason (<out>/quarantine), as a Spark job.",
        footer = {"", "Example:", "  sparkconv nifty ingest --csv ../shared/data/nifty/NIFTY50.csv --out nifty/ingested"})
final class NiftyIngestCommand implements Callable<Integer>, JobCommand<OhlcIngest.Params> {
    @Option(names = "--csv", required = true, arity = "1..*", description = "CSV files (any Hadoop URI); the symbol is the file name unless a Symbol column is present")
    List<String> csv;

    @Option(names = "--out", required = true, description = "ingested directory to write (any Hadoop URI)")
    String out;

    @Option(names = "--overwrite", description = "replace an existing output directory")
    boolean overwrite;

    @Mixin
    SparkOptions sparkOptions;

    @Override
    public OhlcIngest.Params params() {
        return new OhlcIngest.Params(csv, out, overwrite);
    }

    @Override
    public void checkInputs(OhlcIngest.Params params, Configuration conf) {
        OhlcIngest.check(params, conf);
    }

    @Override
    public Integer call() {
        OhlcIngest.Params p = params();
        OhlcIngest.Summary s = OhlcIngest.ingest(sparkOptions.session("nifty ingest"), p);
        System.out.printf("ingested %,d rows (%s) into %s/%s; quarantined %,d rows into %s/%s%n", s.valid(),
                s.rowsBySymbol().size() == 1 ? s.rowsBySymbol().keySet().iterator().next()
                        : s.rowsBySymbol().size() + " symbols", Fs.uri(out), OhlcIngest.PRICES, s.quarantined(), Fs.uri(out),
                OhlcIngest.QUARANTINE);
        s.quarantinedByReason().forEach((reason, n) -> System.out.printf("  %-24s %,d%n", reason, n));
        return 0;
    }
}
