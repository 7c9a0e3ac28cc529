package sparkconv.models;

import java.io.Serializable;

import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.Sgd;

import sparkconv.SparkconvException;

/**
 * Optimiser settings shared by every model of the zoo. {@code learningRate} is the starting rate; the per-epoch
 * schedule is {@link sparkconv.train.LrSchedule}.
 */
public record Hyper(String updater, double learningRate, double momentum, double l2, long seed) implements Serializable {
    public Hyper {
        if (learningRate <= 0 || !Double.isFinite(learningRate)) {
            throw new SparkconvException("--lr must be a positive number, got " + learningRate);
        }
        updaterFor(updater, learningRate, momentum);
    }

    public IUpdater iupdater() {
        return updaterFor(updater, learningRate, momentum);
    }

    /** For people: "nesterovs lr 0.05 momentum 0.9, l2 0.0001, seed 42" (momentum only where the updater has one). */
    public String describe() {
        return updater + " lr " + learningRate + (updater.equals("nesterovs") ? " momentum " + momentum : "")
                + ", l2 " + java.math.BigDecimal.valueOf(l2).stripTrailingZeros().toPlainString() + ", seed " + seed;
    }

    private static IUpdater updaterFor(String name, double lr, double momentum) {
        return switch (name) {
            case "nesterovs" -> new Nesterovs(lr, momentum);
            case "adam" -> new Adam(lr);
            case "sgd" -> new Sgd(lr);
            default -> throw new SparkconvException("unknown updater '" + name + "' (choose nesterovs, adam or sgd)");
        };
    }
}
