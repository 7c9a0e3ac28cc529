package sparkconv.data;

import java.io.Serializable;
import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import sparkconv.SparkconvException;

/**
 * Daily OHLC(V) CSV in the layouts people have: NSE and Yahoo exports ({@code Date,Open,High,Low,Close[,Adj Close][,Volume]},
 * NSE's {@code Shares Traded} / {@code Turnover}), an optional leading row-number column (as pandas writes it),
 * ISO or {@code dd-MMM-yyyy} dates, quoted numbers with thousands separators, and either one file per symbol
 * (the symbol is the file name) or a {@code Symbol} column.
 *
 * <p>Reading is two steps: {@link #parse} checks each row on its own (fields, numbers, bar consistency);
 * {@link #sequence} then checks dates per symbol across all files (duplicates, out of order). Failing rows are
 * quarantined with a reason, never dropped silently; a file with no usable rows or an unknown header is an error.
 */
public final class OhlcCsv {
    private static final DateTimeFormatter ISO = DateTimeFormatter.ISO_LOCAL_DATE;
    private static final DateTimeFormatter DAY_MONTH_YEAR = new DateTimeFormatterBuilder().parseCaseInsensitive()
            .appendPattern("[dd-MMM-yyyy][dd MMM yyyy][d-MMM-yyyy]").toFormatter(Locale.ENGLISH);

    private OhlcCsv() {
    }

    /** Columns a header may name, and the names they go by in NSE and Yahoo exports. */
    enum Column { DATE, OPEN, HIGH, LOW, CLOSE, VOLUME, SYMBOL, IGNORED }

    private static final Map<String, Column> NAMES = new HashMap<>();

    static {
        for (String n : List.of("date", "timestamp", "trade date")) {
            NAMES.put(n, Column.DATE);
        }
        NAMES.put("open", Column.OPEN);
        NAMES.put("high", Column.HIGH);
        NAMES.put("low", Column.LOW);
        NAMES.put("close", Column.CLOSE);
        for (String n : List.of("volume", "shares traded", "vol")) {
            NAMES.put(n, Column.VOLUME);
        }
        for (String n : List.of("symbol", "ticker", "index name")) {
            NAMES.put(n, Column.SYMBOL);
        }
        for (String n : List.of("adj close", "adj_close", "adjclose", "turnover", "turnover (rs. cr)", "turnover (rs cr)")) {
            NAMES.put(n, Column.IGNORED);
        }
    }

    /** A row that passed the per-row checks, with where it came from (for the sequence checks' quarantine). */
    public record Candidate(OhlcRow row, String source, int line, String raw) implements Serializable {
    }

    /** One file read: rows that passed the per-row checks, and those quarantined. */
    public record Parsed(String source, List<Candidate> candidates, List<QuarantinedRow> quarantined) implements Serializable {
    }

    /** Rows that passed every check, and all quarantined rows. */
    public record Result(List<OhlcRow> rows, List<QuarantinedRow> quarantined) implements Serializable {
    }

    /**
     * Parses one file's text. {@code defaultSymbol} names the rows when the file has no symbol column.
     *
     * @throws SparkconvException for an empty file, an unknown header, or a file with no usable rows
     */
    public static Parsed parse(String source, String text, String defaultSymbol) {
        String[] lines = text.split("\r\n|\n|\r", -1);
        int headerIndex = 0;
        while (headerIndex < lines.length && lines[headerIndex].isBlank()) {
            headerIndex++;
        }
        if (headerIndex == lines.length) {
            throw new SparkconvException(source + ": empty file (expected a header Date,Open,High,Low,Close[,Volume])");
        }
        String headerLine = lines[headerIndex].startsWith("\uFEFF") ? lines[headerIndex].substring(1) : lines[headerIndex];
        Column[] columns = header(source, headerIndex + 1, split(headerLine));
        Map<Column, Integer> at = new LinkedHashMap<>();
        for (int i = 0; i < columns.length; i++) {
            if (columns[i] != Column.IGNORED) {
                at.put(columns[i], i);
            }
        }
        List<Candidate> candidates = new ArrayList<>();
        List<QuarantinedRow> quarantined = new ArrayList<>();
        for (int i = headerIndex + 1; i < lines.length; i++) {
            String raw = lines[i];
            if (raw.isBlank()) {
                continue;
            }
            int lineNo = i + 1;
            List<String> fields = split(raw);
            String symbol = at.containsKey(Column.SYMBOL) && at.get(Column.SYMBOL) < fields.size()
                    ? fields.get(at.get(Column.SYMBOL)).trim() : defaultSymbol;
            try {
                candidates.add(new Candidate(row(fields, columns.length, at, symbol), source, lineNo, raw));
            } catch (Rejected r) {
                quarantined.add(new QuarantinedRow(source, lineNo, symbol, raw, r.reason, r.detail));
            }
        }
        if (candidates.isEmpty()) {
            throw new SparkconvException(source + ": no usable rows (" + quarantined.size() + " rejected"
                    + (quarantined.isEmpty() ? "" : ", first at line " + quarantined.get(0).line() + ": " + quarantined.get(0).detail()) + ")");
        }
        return new Parsed(source, candidates, quarantined);
    }

    /**
     * Date checks per symbol over all files, in the order given: a date equal to the previous accepted one is a
     * duplicate, an earlier one is out of order. A file written newest-first (as some NSE exports are) is read
     * oldest-first, so its rows are not all reported out of order.
     */
    public static Result sequence(List<Parsed> files) {
        Map<String, LocalDate> last = new HashMap<>();
        List<OhlcRow> rows = new ArrayList<>();
        List<QuarantinedRow> quarantined = new ArrayList<>();
        for (Parsed file : files) {
            quarantined.addAll(file.quarantined());
            List<Candidate> ordered = new ArrayList<>(file.candidates());
            LocalDate first = ordered.get(0).row().date();
            LocalDate end = ordered.get(ordered.size() - 1).row().date();
            if (end.isBefore(first)) {
                Collections.reverse(ordered);
            }
            for (Candidate c : ordered) {
                OhlcRow r = c.row();
                LocalDate previous = last.get(r.symbol());
                if (previous != null && !r.date().isAfter(previous)) {
                    boolean duplicate = r.date().isEqual(previous);
                    quarantined.add(new QuarantinedRow(c.source(), c.line(), r.symbol(), c.raw(),
                            duplicate ? "duplicate-date" : "out-of-order-date",
                            (duplicate ? "duplicate date " : "date ") + r.date() + (duplicate ? "" : " is before " + previous)));
                    continue;
                }
                last.put(r.symbol(), r.date());
                rows.add(r);
            }
        }
        quarantined.sort(java.util.Comparator.comparing(QuarantinedRow::source).thenComparingInt(QuarantinedRow::line));
        return new Result(rows, quarantined);
    }

    /** The symbol of a file without a symbol column: its name without directory and extension. */
    public static String symbolFromFileName(String uri) {
        String name = uri.substring(uri.lastIndexOf('/') + 1);
        int dot = name.lastIndexOf('.');
        return dot > 0 ? name.substring(0, dot) : name;
    }

    private static Column[] header(String source, int lineNo, List<String> cells) {
        Column[] columns = new Column[cells.size()];
        for (int i = 0; i < cells.size(); i++) {
            String name = unquote(cells.get(i)).toLowerCase(Locale.ROOT).replaceAll("\\s+", " ");
            boolean rowNumber = i == 0 && (name.isEmpty() || name.equals("unnamed: 0") || name.equals("#") || name.equals("index"));
            columns[i] = rowNumber ? Column.IGNORED : NAMES.getOrDefault(name, Column.IGNORED);
        }
        List<Column> present = List.of(columns);
        List<String> missing = new ArrayList<>();
        for (Column required : List.of(Column.DATE, Column.OPEN, Column.HIGH, Column.LOW, Column.CLOSE)) {
            if (!present.contains(required)) {
                missing.add(required.name().charAt(0) + required.name().substring(1).toLowerCase(Locale.ROOT));
            }
        }
        if (!missing.isEmpty()) {
            throw new SparkconvException(source + ":" + lineNo + ": unknown header " + cells + " (missing " + String.join(", ", missing)
                    + "; expected Date,Open,High,Low,Close[,Adj Close][,Volume] as in NSE or Yahoo exports)");
        }
        return columns;
    }

    private static final class Rejected extends Exception {
        final String reason;
        final String detail;

        Rejected(String reason, String detail) {
            super(detail, null, false, false);
            this.reason = reason;
            this.detail = detail;
        }
    }

    private static OhlcRow row(List<String> fields, int expected, Map<Column, Integer> at, String symbol) throws Rejected {
        if (fields.size() != expected) {
            throw new Rejected("field-count", "expected " + expected + " fields, found " + fields.size());
        }
        if (symbol == null || symbol.isEmpty()) {
            throw new Rejected("missing-symbol", "missing symbol");
        }
        LocalDate date = date(fields.get(at.get(Column.DATE)));
        double open = price("open", fields.get(at.get(Column.OPEN)));
        double high = price("high", fields.get(at.get(Column.HIGH)));
        double low = price("low", fields.get(at.get(Column.LOW)));
        double close = price("close", fields.get(at.get(Column.CLOSE)));
        if (high < Math.max(open, close)) {
            throw new Rejected("high-below-open-close", "high " + high + " is below max(open " + open + ", close " + close + ")");
        }
        if (low > Math.min(open, close)) {
            throw new Rejected("low-above-open-close", "low " + low + " is above min(open " + open + ", close " + close + ")");
        }
        double volume = Double.NaN;
        if (at.containsKey(Column.VOLUME)) {
            String v = fields.get(at.get(Column.VOLUME));
            volume = number("volume", v);
            if (Double.isNaN(volume) || volume < 0) {
                throw new Rejected("bad-volume", "volume " + v.trim() + " is not a number >= 0");
            }
        }
        return new OhlcRow(symbol, date, open, high, low, close, volume);
    }

    private static LocalDate date(String text) throws Rejected {
        String t = unquote(text);
        if (t.isEmpty()) {
            throw new Rejected("missing-date", "missing date");
        }
        try {
            return Character.isDigit(t.charAt(0)) && t.length() == 10 && t.charAt(4) == '-'
                    ? LocalDate.parse(t, ISO) : LocalDate.parse(t, DAY_MONTH_YEAR);
        } catch (DateTimeParseException e) {
            throw new Rejected("bad-date", "date '" + t + "' is neither yyyy-MM-dd nor dd-MMM-yyyy");
        }
    }

    private static double price(String name, String text) throws Rejected {
        double v = number(name, text);
        if (Double.isNaN(v)) {
            throw new Rejected("nan-price", name + " is NaN");
        }
        if (Double.isInfinite(v) || v <= 0) {
            throw new Rejected("non-positive-price", name + " " + unquote(text) + " is not a positive price");
        }
        return v;
    }

    /** A number, accepting quotes and thousands separators ("1,482.15"); missing or non-numeric is rejected. */
    private static double number(String name, String text) throws Rejected {
        String t = unquote(text);
        if (t.isEmpty() || t.equals("-") || t.equalsIgnoreCase("null")) {
            throw new Rejected("missing-" + (name.equals("volume") ? "volume" : "price"), "missing " + name);
        }
        if (t.equalsIgnoreCase("nan")) {
            return Double.NaN;
        }
        String digits = t.replace(",", "").replace("_", "");
        try {
            return Double.parseDouble(digits);
        } catch (NumberFormatException e) {
            throw new Rejected("non-numeric-" + (name.equals("volume") ? "volume" : "price"), name + " '" + t + "' is not a number");
        }
    }

    private static String unquote(String s) {
        String t = s.trim();
        if (t.length() >= 2 && t.charAt(0) == '"' && t.charAt(t.length() - 1) == '"') {
            t = t.substring(1, t.length() - 1).replace("\"\"", "\"").trim();
        }
        return t;
    }

    /** Splits one CSV line on commas outside double quotes; quotes are kept for {@link #unquote}. */
    static List<String> split(String line) {
        List<String> out = new ArrayList<>();
        StringBuilder cell = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c == '"') {
                quoted = !quoted;
                cell.append(c);
            } else if (c == ',' && !quoted) {
                out.add(cell.toString());
                cell.setLength(0);
            } else {
                cell.append(c);
            }
        }
        out.add(cell.toString());
        return out;
    }
}
