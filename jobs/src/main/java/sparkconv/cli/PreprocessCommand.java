package sparkconv.cli;

import java.util.Map;
import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import sparkconv.data.ImageDecoder;
import sparkconv.data.IdxDataset;
import sparkconv.data.ImageSources;
import sparkconv.preprocess.PreprocessJob;
import sparkconv.shards.Manifest;

@Command(name = "preprocess",
        description = "Read images (an IDX dataset such as Fashion-MNIST, CIFAR-10 binary batches, a folder tree "
                + "<class>/<file>.png|jpg, or zip / tar(.gz) archives of one) and write DL4J DataSet shards "
                + "(one minibatch per file) with manifest.json, as a Spark job. Bad image files are quarantined "
                + "into <out>/quarantine (Parquet) and counted.")
final class PreprocessCommand implements Callable<Integer>, JobCommand<PreprocessJob.Params> {
    @picocli.CommandLine.Mixin
    HelpOption helpOption;

    @Option(names = "--data", defaultValue = IdxDataset.DEBIAN_FASHION_MNIST,
            description = "IDX directory (any Hadoop URI) with the four IDX files, when --source is not given (default ${DEFAULT-VALUE})")
    String data;

    @Option(names = "--source", description = "image source (any Hadoop URI): an IDX or CIFAR-10 directory, an IDX images file "
            + "(read with its labels file), a CIFAR-10 .bin batch, an image folder tree, a zip / tar(.gz) archive, a directory "
            + "of archives or a glob")
    String source;

    @Option(names = "--idx-labels", paramLabel = "FILE", description = "IDX: the labels file of an IDX images file given as --source "
            + "(default: the file beside it named with labels/idx1 for images/idx3)")
    String idxLabels;

    @Option(names = "--format", defaultValue = "auto", description = "auto, idx, cifar, folder, zip or tar (default ${DEFAULT-VALUE})")
    String format;

    @Option(names = "--dataset", description = "dataset name; for IDX data fashion-mnist or mnist names the classes (default: fashion-mnist for IDX, else the source's name)")
    String dataset;

    @Option(names = "--out", required = true, description = "shard directory to write (any Hadoop URI)")
    String out;

    @Option(names = "--batch", description = "examples per shard = minibatch per worker (default ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--validation", description = "IDX: training images held out for validation (default ${DEFAULT-VALUE})")
    int validation;

    @Option(names = "--limit", defaultValue = "0", description = "IDX: use only the first N training images and the first N/6 test images (quick runs; 0 = all)")
    int limit;

    @Option(names = "--size", description = "images: HxW to resize / crop to (default 32x32 for CIFAR, else 28x28)")
    String size;

    @Option(names = "--channels", description = "images: 1 (grey) or 3 (RGB) (default 3 for CIFAR, else 1)")
    Integer channels;

    @Option(names = "--validation-fraction", defaultValue = "0.1", description = "images: share of images for validation, by path hash; a lone IDX pair: the share before the test share, in file order (default ${DEFAULT-VALUE})")
    double validationFraction;

    @Option(names = "--test-fraction", defaultValue = "0.1", description = "images: share of images for test, by path hash; "
            + "ignored for CIFAR (its test batch) and paths under test/; a lone IDX pair: its last share (default ${DEFAULT-VALUE})")
    double testFraction;

    @Option(names = "--max-pixels", defaultValue = "" + ImageDecoder.DEFAULT_MAX_PIXELS,
            description = "images: larger declared sizes are quarantined as decompression bombs, before decoding (default ${DEFAULT-VALUE})")
    long maxPixels;

    @Option(names = "--max-file-bytes", defaultValue = "" + ImageSources.DEFAULT_MAX_ENTRY_BYTES,
            description = "images: larger files / archive entries are quarantined (default ${DEFAULT-VALUE})")
    long maxFileBytes;

    @Option(names = "--overwrite", description = "replace an existing shard directory made from other inputs")
    boolean overwrite;

    @Mixin
    SparkOptions sparkOptions;

    @Override
    public PreprocessJob.Params params() {
        return new PreprocessJob.Params(data, source, idxLabels, format, dataset, out, batch, validation, limit, size, channels,
                validationFraction, testFraction, maxPixels, maxFileBytes, overwrite);
    }

    @Override
    public void checkInputs(PreprocessJob.Params params, org.apache.hadoop.conf.Configuration conf) {
        PreprocessJob.check(params, conf);
    }

    @Override
    public Integer call() {
        PreprocessJob.Params p = params();
        PreprocessJob.Result r = PreprocessJob.run(sparkOptions.session("preprocess"), p);
        Jobs.print(r.shards());
        if (r.quarantineUri() != null && !r.shards().upToDate()) {
            System.out.println(quarantineSummary(r.quarantined(), r.quarantineUri()));
        }
        return 0;
    }

    static String quarantineSummary(Map<String, Long> quarantined, String uri) {
        if (quarantined.isEmpty()) {
            return "quarantined: none";
        }
        StringBuilder sb = new StringBuilder("quarantined: " + quarantined.values().stream().mapToLong(Long::longValue).sum()
                + " inputs, listed in " + uri);
        quarantined.forEach((reason, n) -> sb.append(String.format("%n  %-20s %,7d", reason, n)));
        return sb.toString();
    }

    static String describe(Manifest m) {
        StringBuilder sb = new StringBuilder();
        m.splits().forEach((name, s) -> sb.append(String.format("  %-10s %,7d examples in %,5d shards%n", name, s.examples(), s.shards().size())));
        return sb.toString();
    }
}
