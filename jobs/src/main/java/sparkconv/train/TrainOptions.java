package sparkconv.train;

import java.io.Serializable;

import sparkconv.SparkconvException;
import sparkconv.models.Hyper;

/**
 * Parameter-averaging training settings. {@code workers} 0 means one per Spark task slot
 * ({@code defaultParallelism}).
 */
public record TrainOptions(String model, int epochs, int workers, int averagingFrequency, int prefetch, Hyper hyper,
                           boolean collectStats, TrainControl control) implements Serializable {
    public TrainOptions(String model, int epochs, int workers, int averagingFrequency, int prefetch, Hyper hyper,
                        boolean collectStats) {
        this(model, epochs, workers, averagingFrequency, prefetch, hyper, collectStats, TrainControl.DEFAULT);
    }

    public TrainOptions {
        if (control == null) {
            control = TrainControl.DEFAULT;
        }
        if (epochs < 1) {
            throw new SparkconvException("--epochs must be at least 1, got " + epochs);
        }
        if (workers < 0) {
            throw new SparkconvException("--workers must be 0 (one per task slot) or more, got " + workers);
        }
        if (averagingFrequency < 1) {
            throw new SparkconvException("--averaging-frequency must be at least 1, got " + averagingFrequency);
        }
        if (prefetch < 0) {
            throw new SparkconvException("--prefetch must be 0 or more, got " + prefetch);
        }
    }
}
