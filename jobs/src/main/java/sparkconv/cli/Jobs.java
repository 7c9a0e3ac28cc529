package sparkconv.cli;

import sparkconv.shards.ShardWriter;

/** Small output helpers shared by the commands. */
final class Jobs {
    private Jobs() {
    }

    static void print(ShardWriter.Result r) {
        var m = r.manifest();
        System.out.printf("%s shards (%s, %dx%dx%d, %d classes, batch %d)%s%n", r.upToDate() ? "up to date:" : "wrote",
                m.dataset(), m.shape().height(), m.shape().width(), m.shape().channels(), m.classes().size(), m.batchSize(),
                r.upToDate() ? " - inputs unchanged, nothing rewritten" : "");
        System.out.print(PreprocessCommand.describe(m));
    }
}
