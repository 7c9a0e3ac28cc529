package sparkconv.train;

import java.io.Serializable;

import sparkconv.SparkconvException;

/**
 * How a run is steered beyond its hyper-parameters: the learning-rate schedule, early stopping on validation
 * accuracy ({@code patience} epochs without improvement; 0 = off; the best epoch's model is the result), and
 * whether to continue from the run's last complete checkpoint.
 */
public record TrainControl(LrSchedule schedule, int patience, boolean resume) implements Serializable {
    public static final TrainControl DEFAULT = new TrainControl(LrSchedule.CONSTANT, 0, false);

    public TrainControl {
        if (patience < 0) {
            throw new SparkconvException("--patience must be 0 (off) or more epochs, got " + patience);
        }
    }
}
