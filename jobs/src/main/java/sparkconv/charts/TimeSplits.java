package sparkconv.charts;

import java.io.Serializable;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Function;

import sparkconv.SparkconvException;

/**
 * Splits of chart windows by date, never at random: windows of length W with horizon H overlap their neighbours by
 * up to W+H days, so a random split puts nearly identical windows (and the same future) on both sides and
 * measures memory, not prediction. Splits are contiguous date ranges; after each boundary an embargo of at least
 * W+H trading days (counted in each symbol's own days) drops the windows whose days or label could touch the
 * previous split. {@link #verify} checks any assignment and refuses one that leaks.
 */
public final class TimeSplits {
    private TimeSplits() {
    }

    /** A window of symbol {@code series} ending on its day index {@code end} (date {@code date}). */
    public record Window(int series, String symbol, int end, LocalDate date) implements Serializable {
    }

    /** Named splits (in time order) of windows, each list in time order per symbol. */
    public record Fold(String name, Map<String, List<Window>> splits) implements Serializable {
    }

    /** The smallest embargo with no shared day: a window at t reads t-W..t and its label close(t+H). */
    public static int minimumEmbargo(int window, int horizon) {
        return window + horizon;
    }

    /** Refuses split methods that leak; only date-based splits exist. */
    public static void requireTimeSplit(String method) {
        if (method.equalsIgnoreCase("random") || method.equalsIgnoreCase("shuffle")) {
            throw new SparkconvException("--split " + method + " is refused: overlapping chart windows split at random share days "
                    + "and futures across train and test (the source of 70-90% accuracy claims); split by date with an embargo");
        }
        if (!method.equals("time") && !method.equals("walk-forward") && !method.equals("walk-forward-rolling")) {
            throw new SparkconvException("unknown --split '" + method + "' (choose time, walk-forward or walk-forward-rolling)");
        }
    }

    /** The time split's shares of the dates: train > 0, validation >= 0, and some left for the test period. */
    public static void requireFractions(double trainFraction, double validationFraction) {
        if (trainFraction <= 0 || validationFraction < 0 || trainFraction + validationFraction >= 1) {
            throw new SparkconvException("--train " + trainFraction + " and --validation " + validationFraction
                    + " must be fractions with train > 0 and train + validation < 1 (the rest is the test period)");
        }
    }

    /**
     * Train / validation / test by date: the first {@code trainFraction} of the distinct window end dates go to
     * train, the next {@code validationFraction} to validation, the rest to test; then the embargo.
     */
    public static Fold byDate(List<Window> windows, double trainFraction, double validationFraction, int embargo,
                              int window, int horizon) {
        requireFractions(trainFraction, validationFraction);
        List<LocalDate> dates = calendar(windows);
        LocalDate trainEnd = dates.get(Math.max(0, (int) (dates.size() * trainFraction) - 1));
        LocalDate validationEnd = dates.get(Math.max(0, (int) (dates.size() * (trainFraction + validationFraction)) - 1));
        List<String> names = validationFraction > 0 ? List.of("train", "validation", "test") : List.of("train", "test");
        Fold fold = new Fold("time", assign(windows, names, w -> !w.date().isAfter(trainEnd) ? "train"
                : !w.date().isAfter(validationEnd) && validationFraction > 0 ? "validation" : "test", embargo, window, horizon));
        verify(fold, window, horizon);
        return fold;
    }

    /**
     * Walk-forward folds: the window end dates are cut into {@code folds + 1} equal blocks; fold k tests on block k
     * and trains on blocks 0..k-1 (expanding) or on block k-1 only (rolling). With {@code validationFraction} &gt; 0 the
     * last fraction of each fold's training dates is its validation period (for early stopping), with the embargo
     * after it as after the training period.
     */
    public static List<Fold> walkForward(List<Window> windows, int folds, boolean expanding, double validationFraction, int embargo,
                                         int window, int horizon) {
        if (validationFraction < 0 || validationFraction >= 1) {
            throw new SparkconvException("--validation " + validationFraction + " must be a fraction in [0, 1) of each fold's training dates");
        }
        if (folds < 1) {
            throw new SparkconvException("--folds must be at least 1, got " + folds);
        }
        List<LocalDate> dates = calendar(windows);
        int block = dates.size() / (folds + 1);
        if (block <= embargo) {
            throw new SparkconvException(folds + " walk-forward folds leave " + block + " days per block, not more than the embargo of "
                    + embargo + " days: use fewer folds or a longer series");
        }
        List<Fold> out = new ArrayList<>();
        for (int k = 1; k <= folds; k++) {
            int trainStartIndex = expanding ? 0 : (k - 1) * block;
            LocalDate trainStart = dates.get(trainStartIndex);
            LocalDate testStart = dates.get(k * block);
            LocalDate validationStart = dates.get(trainStartIndex + (int) Math.round((k * block - trainStartIndex) * (1 - validationFraction)));
            LocalDate testEnd = dates.get(k == folds ? dates.size() - 1 : (k + 1) * block - 1);
            List<Window> inFold = windows.stream()
                    .filter(w -> !w.date().isBefore(trainStart) && !w.date().isAfter(testEnd)).toList();
            Fold fold = validationFraction > 0
                    ? new Fold("fold-" + k, assign(inFold, List.of("train", "validation", "test"),
                    w -> w.date().isBefore(validationStart) ? "train" : w.date().isBefore(testStart) ? "validation" : "test",
                    embargo, window, horizon))
                    : new Fold("fold-" + k, assign(inFold, List.of("train", "test"),
                    w -> w.date().isBefore(testStart) ? "train" : "test", embargo, window, horizon));
            verify(fold, window, horizon);
            out.add(fold);
        }
        return out;
    }

    /**
     * Assigns each window to a split, in the given time order, then drops a window that lies within {@code embargo}
     * of its symbol's last kept window of an earlier split.
     */
    static Map<String, List<Window>> assign(List<Window> windows, List<String> names, Function<Window, String> splitOf,
                                            int embargo, int window, int horizon) {
        if (embargo < minimumEmbargo(window, horizon)) {
            throw new SparkconvException("--embargo " + embargo + " is shorter than window + horizon = " + minimumEmbargo(window, horizon)
                    + " trading days: windows on both sides of a split boundary would share days");
        }
        Map<String, List<Window>> out = new LinkedHashMap<>();
        names.forEach(n -> out.put(n, new ArrayList<>()));
        Map<Integer, Integer> lastSplit = new HashMap<>();
        Map<Integer, Integer> lastEnd = new HashMap<>();
        List<Window> ordered = new ArrayList<>(windows);
        ordered.sort(Comparator.comparingInt(Window::series).thenComparingInt(Window::end));
        for (Window w : ordered) {
            int split = names.indexOf(splitOf.apply(w));
            Integer previous = lastSplit.get(w.series());
            if (previous != null && previous < split && w.end() - lastEnd.get(w.series()) <= embargo) {
                continue;
            }
            if (previous == null || previous < split) {
                lastSplit.put(w.series(), split);
            }
            lastEnd.put(w.series(), w.end());
            out.get(names.get(split)).add(w);
        }
        return out;
    }

    /**
     * Refuses any assignment in which two windows of one symbol in different splits are W+H trading days or fewer
     * apart (they would share days or a label's future). A random split of overlapping windows always fails this.
     */
    public static void verify(Fold fold, int window, int horizon) {
        int minimum = minimumEmbargo(window, horizon);
        Map<Integer, List<Object[]>> bySeries = new HashMap<>();
        fold.splits().forEach((name, list) -> list.forEach(w -> bySeries.computeIfAbsent(w.series(), k -> new ArrayList<>())
                .add(new Object[]{w, name})));
        for (List<Object[]> entries : bySeries.values()) {
            entries.sort(Comparator.comparingInt(e -> ((Window) e[0]).end()));
            Map<String, Window> lastOf = new HashMap<>();
            for (Object[] e : entries) {
                Window w = (Window) e[0];
                String split = (String) e[1];
                for (Map.Entry<String, Window> other : lastOf.entrySet()) {
                    if (!other.getKey().equals(split) && w.end() - other.getValue().end() <= minimum) {
                        throw new SparkconvException(String.format("split refused: %s window ending %s (%s) is %d trading days after "
                                        + "the %s window ending %s; windows of %d days with a %d-day horizon need more than %d days "
                                        + "between splits (a random split of overlapping windows leaks; split by date with an embargo)",
                                w.symbol(), w.date(), split, w.end() - other.getValue().end(), other.getKey(),
                                other.getValue().date(), window, horizon, minimum));
                    }
                }
                lastOf.put(split, w);
            }
        }
    }

    private static List<LocalDate> calendar(List<Window> windows) {
        if (windows.isEmpty()) {
            throw new SparkconvException("no windows to split");
        }
        TreeSet<LocalDate> dates = new TreeSet<>();
        windows.forEach(w -> dates.add(w.date()));
        return new ArrayList<>(dates);
    }
}
