package sparkconv.models;

import java.io.Serializable;

import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.Sgd;

import sparkconv.SparkconvException;

/**
 * Optimiser settings shared by every model of the zoo. The learning rate of epoch e (from 1) is
 * {@code learningRate * lrDecay^(e-1)}; the trainer sets it on the driver's network, which every averaging round
 * broadcasts, so the schedule holds under parameter averaging (worker-side iteration counters restart each round).
 */
public record Hyper(String updater, double learningRate, double lrDecay, double momentum, double l2, long seed)
        implements Serializable {
    public Hyper {
        if (learningRate <= 0 || !Double.isFinite(learningRate)) {
            throw new SparkconvException("--lr must be a positive number, got " + learningRate);
        }
        if (lrDecay <= 0 || lrDecay > 1) {
            throw new SparkconvException("--lr-decay must be in (0, 1], got " + lrDecay);
        }
        updaterFor(updater, learningRate, momentum);
    }

    public double learningRate(int epoch) {
        return learningRate * Math.pow(lrDecay, epoch - 1);
    }

    public IUpdater iupdater() {
        return updaterFor(updater, learningRate, momentum);
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
