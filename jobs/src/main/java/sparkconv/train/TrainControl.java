package sparkconv.train;

import java.io.Serializable;

import sparkconv.SparkconvException;

/**
 * How a run is steered beyond its hyper-parameters: the learning-rate schedule, early stopping ({@code patience}
 * epochs without a better validation {@code stopOn} figure, "accuracy" (higher is better) or "loss" (lower is better);
 * 0 = off; the best epoch's model is the result), and whether to continue from the run's last complete checkpoint.
 */
public record TrainControl(LrSchedule schedule, int patience, boolean resume, String stopOn) implements Serializable {
    public static final TrainControl DEFAULT = new TrainControl(LrSchedule.CONSTANT, 0, false);

    public TrainControl(LrSchedule schedule, int patience, boolean resume) {
        this(schedule, patience, resume, "accuracy");
    }

    public TrainControl {
        if (patience < 0) {
            throw new SparkconvException("--patience must be 0 (off) or more epochs, got " + patience);
        }
        if (!stopOn.equals("accuracy") && !stopOn.equals("loss")) {
            throw new SparkconvException("--stop-on must be accuracy or loss, got '" + stopOn + "'");
        }
    }

    /** The epoch's figure early stopping maximises: validation accuracy, or minus the validation loss. */
    public double merit(EpochStats epoch) {
        return stopOn.equals("loss") ? -epoch.validationLoss() : epoch.validationAccuracy();
    }
}
