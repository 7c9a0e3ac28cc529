package sparkconv.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import sparkconv.SparkconvException;

class AveragingPolicyTest {
    @ParameterizedTest
    @ValueSource(strings = {"local", "linear", "linear:0", "linear:3", "sqrt:1", "post-local", "post-local:0.5"})
    void oneWorkerIsOneJvmUnderEveryPolicy(String text) {
        AveragingPolicy policy = AveragingPolicy.parse(text);
        for (int epoch = 1; epoch <= 6; epoch++) {
            for (int half = 0; half < 2; half++) {
                assertEquals(1.0, policy.rateFactor(1, epoch, half), text + " epoch " + epoch + " half " + half);
            }
        }
    }

    @Test
    void linearWarmsUpFromOneJvmsRateToWTimesItInEqualHalfEpochSteps() {
        AveragingPolicy linear = AveragingPolicy.parse("linear:2");
        double[] expected = {1, 2.75, 4.5, 6.25, 8, 8};
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], linear.rateFactor(8, 1 + i / 2, i % 2), 1e-12, "half epoch " + i);
        }
        assertEquals(5, linear.frequency(5, 1), "linear keeps the averaging frequency");
        assertEquals(4.0, AveragingPolicy.parse("sqrt:0").rateFactor(16, 1, 0), 1e-12, "sqrt without warm-up");
        assertEquals(1.0, AveragingPolicy.LOCAL.rateFactor(16, 3, 1), "local leaves the rate alone");
    }

    @Test
    void postLocalAveragesEveryMinibatchDuringTheWarmUpThenEveryF() {
        AveragingPolicy p = AveragingPolicy.parse("post-local:2");
        assertEquals(1, p.frequency(5, 1));
        assertEquals(1, p.frequency(5, 2));
        assertEquals(5, p.frequency(5, 3));
        assertEquals(4.0, p.rateFactor(4, 3, 0), "the linear rate after the warm-up");
    }

    @ParameterizedTest
    @ValueSource(strings = {"local", "linear:2", "sqrt:1", "post-local:0.5"})
    void textRoundTrips(String text) {
        assertEquals(text, AveragingPolicy.parse(text).toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "bmuf", "linear:x", "linear:-1", "local:2", "sqrt:1:2"})
    void badPoliciesAreRefusedInOneLine(String text) {
        SparkconvException e = assertThrows(SparkconvException.class, () -> AveragingPolicy.parse(text));
        assertEquals(1, e.getMessage().lines().count(), e.getMessage());
        assertEquals(true, e.getMessage().startsWith("--averaging-policy"), e.getMessage());
    }
}
