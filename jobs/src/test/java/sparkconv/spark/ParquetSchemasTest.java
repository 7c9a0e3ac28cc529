package sparkconv.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;

/**
 * Every Parquet schema sparkconv writes, pinned per version: changing a table's columns without a new version (and a
 * new line here, and in README "Formats") fails.
 */
class ParquetSchemasTest {
    private static final Map<String, String> PINNED = new LinkedHashMap<>();

    static {
        PINNED.put("image-quarantine/1", "path STRING NOT NULL,reason STRING NOT NULL,bytes BIGINT NOT NULL,detail STRING");
        PINNED.put("scores/1", "path STRING NOT NULL,predicted_class INT,class_name STRING,probability DOUBLE,"
                + "top_k ARRAY<STRUCT<class_index: INT, class_name: STRING, probability: DOUBLE>>," // Spark's DDL omits nested NOT NULL
                + "model_name STRING NOT NULL,model_version STRING NOT NULL,scored_at TIMESTAMP NOT NULL,error STRING");
        PINNED.put("ohlc-prices/1", "symbol STRING NOT NULL,date DATE NOT NULL,open DOUBLE NOT NULL,high DOUBLE NOT NULL,"
                + "low DOUBLE NOT NULL,close DOUBLE NOT NULL,volume DOUBLE");
        PINNED.put("ohlc-quarantine/1", "source STRING NOT NULL,line INT NOT NULL,symbol STRING,raw STRING NOT NULL,"
                + "reason STRING NOT NULL,detail STRING NOT NULL");
    }

    @Test
    void everySchemaVersionIsPinned() {
        Map<String, String> actual = new LinkedHashMap<>();
        ParquetSchemas.ALL.forEach(s -> actual.put(s.name() + "/" + s.version(), s.type().toDDL()));
        assertEquals(PINNED, actual);
    }
}
