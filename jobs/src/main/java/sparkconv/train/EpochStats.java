package sparkconv.train;

/**
 * One epoch of training as the driver saw it. {@code loss} is the last averaged minibatch score; the accuracies and
 * the validation loss are measured after the epoch (training accuracy on a fixed sample of training shards as large
 * as the validation split). Validation figures are NaN without a validation split.
 */
public record EpochStats(int epoch, long examples, double seconds, double examplesPerSecond, double loss,
                         double validationAccuracy, double trainAccuracy, double validationLoss, double learningRate) {
}
