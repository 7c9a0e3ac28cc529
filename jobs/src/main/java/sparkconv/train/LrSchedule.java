package sparkconv.train;

import java.io.Serializable;

import sparkconv.SparkconvException;

/**
 * Learning rate per epoch, applied on the driver before each epoch (the rate travels to the workers with the
 * configuration broadcast in every averaging round). Text forms, as given to {@code --lr-schedule}:
 * {@code constant}; {@code step:N:F} (multiply by F every N epochs); {@code exp:G} (multiply by G every epoch);
 * {@code cosine} or {@code cosine:M} (cosine decay from the base rate to M times it over the run; M defaults to 0.01).
 */
public record LrSchedule(String kind, int every, double factor) implements Serializable {
    public static final LrSchedule CONSTANT = new LrSchedule("constant", 1, 1.0);

    public LrSchedule {
        if (every < 1) {
            throw new SparkconvException("--lr-schedule: the step must be at least 1 epoch, got " + every);
        }
        if (!(factor > 0) || !Double.isFinite(factor)) {
            throw new SparkconvException("--lr-schedule: the factor must be a positive number, got " + factor);
        }
    }

    public static LrSchedule parse(String text) {
        String[] p = text.trim().toLowerCase().split(":");
        try {
            switch (p[0]) {
                case "constant":
                    if (p.length == 1) {
                        return CONSTANT;
                    }
                    break;
                case "step":
                    if (p.length == 3) {
                        return new LrSchedule("step", Integer.parseInt(p[1]), Double.parseDouble(p[2]));
                    }
                    break;
                case "exp":
                    if (p.length == 2) {
                        return new LrSchedule("exp", 1, Double.parseDouble(p[1]));
                    }
                    break;
                case "cosine":
                    if (p.length <= 2) {
                        return new LrSchedule("cosine", 1, p.length == 2 ? Double.parseDouble(p[1]) : 0.01);
                    }
                    break;
                default:
                    break;
            }
        } catch (NumberFormatException e) {
            // fall through to the error below
        }
        throw new SparkconvException("--lr-schedule '" + text + "' is not constant, step:N:F, exp:G or cosine[:M]");
    }

    /** The rate for 1-based {@code epoch} of {@code epochs}. */
    public double rate(double base, int epoch, int epochs) {
        return switch (kind) {
            case "step" -> base * Math.pow(factor, (epoch - 1) / every);
            case "exp" -> base * Math.pow(factor, epoch - 1);
            case "cosine" -> {
                double progress = epochs <= 1 ? 0 : (epoch - 1) / (double) (epochs - 1);
                double min = base * factor;
                yield min + (base - min) * 0.5 * (1 + Math.cos(Math.PI * progress));
            }
            default -> base;
        };
    }

    @Override
    public String toString() {
        return switch (kind) {
            case "step" -> "step:" + every + ":" + factor;
            case "exp" -> "exp:" + factor;
            case "cosine" -> "cosine:" + factor;
            default -> kind;
        };
    }
}
