package sparkconv.data;

import java.io.Serializable;
import java.time.LocalDate;

/** One validated daily bar. {@code volume} is NaN when the file has no volume column. */
public record OhlcRow(String symbol, LocalDate date, double open, double high, double low, double close, double volume)
        implements Serializable {
}
