package sparkconv.train;

/** One epoch of training as the driver saw it. {@code validationAccuracy} is NaN without a validation split. */
public record EpochStats(int epoch, long examples, double seconds, double examplesPerSecond, double loss,
                         double validationAccuracy) {
}
