package sparkconv.data;

import java.io.Serializable;

/**
 * A CSV row that failed validation: where it came from (file, 1-based line), the raw text, a reason category
 * (counted in the ingest summary) and a detail naming the offending value.
 */
public record QuarantinedRow(String source, int line, String symbol, String raw, String reason, String detail)
        implements Serializable {
}
