package sparkconv.models;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A zoo model's own recommended training settings. A null field means the model has no opinion and the training
 * command's default applies. Precedence, highest first: a flag given on the command line (or by a pipeline stage's
 * args, which become flags) &gt; these defaults &gt; the command's defaults ({@code conf/defaults.properties}).
 * {@code batch} is the examples per shard the model is meant to train on: shards fix their batch when they are
 * written, so it is used where sparkconv writes the shards for training itself ({@code nifty walk-forward}).
 */
public record TrainingDefaults(String updater, Double learningRate, Double momentum, Double l2, String lrSchedule,
                               Integer batch, Integer epochs, Integer patience, String stopOn, String source) {
    /** No model-specific settings: the command's defaults (tuned for image classification, see README). */
    public static final TrainingDefaults NONE = new TrainingDefaults(null, null, null, null, null, null, null, null, null,
            "the training command's defaults (image classification: Nesterov momentum 0.05, decayed x0.8 per epoch)");

    /**
     * Jiang, Kelly and Xiu (2023), "(Re-)Imag(in)ing Price Trends": Adam, learning rate 1e-5, batch 128, Xavier
     * initialisation (in the network), no weight decay, early stopping when the validation loss has not improved for 2
     * epochs. The paper's ensemble of 5 independently trained runs is {@code nifty walk-forward --ensemble 5}.
     */
    static final TrainingDefaults PAPER = new TrainingDefaults("adam", 1e-5, null, 0.0, "constant", 128, 20, 2, "loss",
            "Jiang, Kelly & Xiu (2023): Adam 1e-5, batch 128, early stopping on validation loss (patience 2)");

    /**
     * The small chart networks: Adam at 1e-3 (a hundred times the paper's rate: they see thousands, not hundreds of
     * thousands, of windows), otherwise the paper's settings. With the image defaults (Nesterov 0.05) the small CNN's
     * training loss jumped to ~5.9 within its first epoch on 20-day windows.
     */
    static final TrainingDefaults SMALL = new TrainingDefaults("adam", 1e-3, null, 0.0, "constant", 128, 20, 2, "loss",
            "small chart networks: Adam 1e-3, batch 128, early stopping on validation loss (patience 2)");

    public static TrainingDefaults of(String model) {
        return switch (model) {
            case "candle-cnn-5", "candle-cnn-20", "candle-cnn-60" -> PAPER;
            case "candle-cnn-small", "conv1d" -> SMALL;
            default -> NONE;
        };
    }

    /** What {@code describe} prints under the layer table. */
    public String table() {
        List<String> parts = new ArrayList<>();
        if (updater != null) {
            parts.add("updater " + updater);
        }
        if (learningRate != null) {
            parts.add(String.format(Locale.ROOT, "lr %s", learningRate));
        }
        if (momentum != null) {
            parts.add("momentum " + momentum);
        }
        if (l2 != null) {
            parts.add("l2 " + l2);
        }
        if (lrSchedule != null) {
            parts.add("lr-schedule " + lrSchedule);
        }
        if (batch != null) {
            parts.add("batch " + batch);
        }
        if (epochs != null) {
            parts.add("epochs " + epochs + " at most");
        }
        if (patience != null) {
            parts.add("patience " + patience + " (stop on validation " + stopOn + ")");
        }
        return "training defaults: " + source + "\n"
                + (parts.isEmpty() ? "" : "  " + String.join(", ", parts) + "\n")
                + "  (flags given to train override them)\n";
    }
}
