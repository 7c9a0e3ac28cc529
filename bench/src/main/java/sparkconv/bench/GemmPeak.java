package sparkconv.bench;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * This machine's FP32 arithmetic peak as training sees it: ND4J's matrix multiply (the BLAS that im2col convolutions
 * and dense layers end in) on square float matrices, with the OpenMP threads this JVM started with, best of several
 * runs per size. The train table divides each configuration's FLOP/s by it (same run, same threads), so "fraction of
 * peak" means of what this BLAS reaches on this machine now, not of a datasheet figure. Prints one {@code BENCH} JSON
 * line per size.
 */
public final class GemmPeak {
    private static final int[] SIZES = {256, 512, 1024, 2048};
    private static final int REPEATS = 5;

    public static void main(String[] args) {
        String threads = System.getenv().getOrDefault("OMP_NUM_THREADS", "?");
        for (int n : SIZES) {
            double gflops = best(n);
            System.out.printf("  gemm %dx%d float, OMP_NUM_THREADS=%s: %.1f GFLOP/s (best of %d)%n", n, n, threads, gflops, REPEATS);
            System.out.printf("BENCH {\"bench\":\"gemm\",\"label\":\"gemm\",\"threads\":\"%s\",\"n\":%d,\"gflops\":%.3f}%n",
                    threads, n, gflops);
        }
    }

    /** GFLOP/s of an n x n float multiply on this JVM's OpenMP threads, the best of {@code REPEATS} timed runs. */
    static double best(int n) {
        INDArray a = Nd4j.rand(DataType.FLOAT, n, n);
        INDArray b = Nd4j.rand(DataType.FLOAT, n, n);
        INDArray c = Nd4j.create(DataType.FLOAT, n, n);
        a.mmuli(b, c); // warm-up: the BLAS's own buffers and threads
        double best = Double.MAX_VALUE;
        int reps = Math.max(1, (int) (2e9 / (2.0 * n * n * n))); // ~2 GFLOP per timed run
        for (int r = 0; r < REPEATS; r++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < reps; i++) {
                a.mmuli(b, c);
            }
            Nd4j.getExecutioner().commit();
            best = Math.min(best, (System.nanoTime() - t0) / 1e9 / reps);
        }
        return 2.0 * n * n * n / best / 1e9;
    }
}
