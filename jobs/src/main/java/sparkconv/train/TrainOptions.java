package sparkconv.train;

import java.io.Serializable;

import sparkconv.SparkconvException;
import sparkconv.models.Hyper;

/**
 * Parameter-averaging training settings. {@code workers} 0 means one per Spark task slot
 * ({@code defaultParallelism}); {@code policy} says how the learning rate and the averaging frequency follow the
 * number of workers (the constructors without one mean {@link AveragingPolicy#LOCAL}; the commands' default comes from
 * {@code train.averaging-policy} in conf/defaults.properties). Copies with one setting changed go through the
 * {@code with…} methods, not the constructor.
 */
public record TrainOptions(String model, int epochs, int workers, int averagingFrequency, int prefetch, Hyper hyper,
                           boolean collectStats, TrainControl control, AveragingPolicy policy) implements Serializable {
    public TrainOptions(String model, int epochs, int workers, int averagingFrequency, int prefetch, Hyper hyper,
                        boolean collectStats) {
        this(model, epochs, workers, averagingFrequency, prefetch, hyper, collectStats, TrainControl.DEFAULT, AveragingPolicy.LOCAL);
    }

    public TrainOptions(String model, int epochs, int workers, int averagingFrequency, int prefetch, Hyper hyper,
                        boolean collectStats, TrainControl control) {
        this(model, epochs, workers, averagingFrequency, prefetch, hyper, collectStats, control, AveragingPolicy.LOCAL);
    }

    public TrainOptions {
        if (control == null) {
            control = TrainControl.DEFAULT;
        }
        if (policy == null) {
            policy = AveragingPolicy.LOCAL;
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

    public TrainOptions withModel(String model) {
        return new TrainOptions(model, epochs, workers, averagingFrequency, prefetch, hyper, collectStats, control, policy);
    }

    public TrainOptions withHyper(Hyper hyper) {
        return new TrainOptions(model, epochs, workers, averagingFrequency, prefetch, hyper, collectStats, control, policy);
    }

    public TrainOptions withControl(TrainControl control) {
        return new TrainOptions(model, epochs, workers, averagingFrequency, prefetch, hyper, collectStats, control, policy);
    }

    public TrainOptions withPolicy(AveragingPolicy policy) {
        return new TrainOptions(model, epochs, workers, averagingFrequency, prefetch, hyper, collectStats, control, policy);
    }
}
