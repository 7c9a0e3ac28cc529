package sparkconv.train;

import java.io.Serializable;

import sparkconv.SparkconvException;
import sparkconv.models.Hyper;

/**
 * Parameter-averaging training settings. {@code workers} 0 means one per Spark task slot
 * ({@link sparkconv.spark.WorkerThreads#slots}: cores over {@code spark.task.cpus}); {@code policy} says how the learning rate and the averaging frequency follow the
 * number of workers (the commands' default comes from {@code train.averaging-policy} in conf/defaults.properties).
 * Built by name ({@link #builder}); copies with one setting changed go through the {@code with…} methods.
 */
public record TrainOptions(String model, int epochs, int workers, int averagingFrequency, int prefetch, Hyper hyper,
                           boolean collectStats, TrainControl control, AveragingPolicy policy) implements Serializable {
    /**
     * Options built by name: {@code TrainOptions.builder("lenet5", hyper).epochs(10).workers(2).build()}. Unnamed settings
     * are 1 epoch, one worker per task slot, averaging every 5 minibatches, 2 shards prefetched, no statistics, the
     * default control and {@link AveragingPolicy#LOCAL}; the commands name every one (conf/defaults.properties).
     */
    public static Builder builder(String model, Hyper hyper) {
        return new Builder(model, hyper);
    }

    public static final class Builder {
        private final String model;
        private final Hyper hyper;
        private int epochs = 1;
        private int workers;
        private int averagingFrequency = 5;
        private int prefetch = 2;
        private boolean collectStats;
        private TrainControl control = TrainControl.DEFAULT;
        private AveragingPolicy policy = AveragingPolicy.LOCAL;

        private Builder(String model, Hyper hyper) {
            this.model = model;
            this.hyper = hyper;
        }

        public Builder epochs(int epochs) {
            this.epochs = epochs;
            return this;
        }

        public Builder workers(int workers) {
            this.workers = workers;
            return this;
        }

        public Builder averagingFrequency(int averagingFrequency) {
            this.averagingFrequency = averagingFrequency;
            return this;
        }

        public Builder prefetch(int prefetch) {
            this.prefetch = prefetch;
            return this;
        }

        public Builder collectStats(boolean collectStats) {
            this.collectStats = collectStats;
            return this;
        }

        public Builder control(TrainControl control) {
            this.control = control;
            return this;
        }

        public Builder policy(AveragingPolicy policy) {
            this.policy = policy;
            return this;
        }

        public TrainOptions build() {
            return new TrainOptions(model, epochs, workers, averagingFrequency, prefetch, hyper, collectStats, control, policy);
        }
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
