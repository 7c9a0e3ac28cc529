package sparkconv.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import sparkconv.SparkconvException;

class AveragingPolicyTest {
    @ParameterizedTest
    @ValueSource(strings = {"local", "linear", "linear:0", "linear:3", "sqrt:1", "post-local", "post-local:0.5", "slowmo",
        "slowmo:0.9", "slowmo-reset", "sync", "sync:1"})
    void oneWorkerIsOneJvmUnderEveryPolicy(String text) {
        AveragingPolicy policy = AveragingPolicy.parse(text);
        assertEquals(0.0, policy.outerMomentum(1), text + ": no outer step with one worker");
        for (int epoch = 1; epoch <= 6; epoch++) {
            for (int half = 0; half < 2; half++) {
                assertEquals(1.0, policy.rateFactor(1, 64, epoch, half), text + " epoch " + epoch + " half " + half);
            }
        }
    }

    @Test
    void linearWarmsUpFromOneJvmsRateToWTimesItInEqualHalfEpochSteps() {
        AveragingPolicy linear = AveragingPolicy.parse("linear:2");
        double[] expected = {1, 2.75, 4.5, 6.25, 8, 8};
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], linear.rateFactor(8, 64, 1 + i / 2, i % 2), 1e-12, "half epoch " + i);
        }
        assertEquals(5, linear.frequency(5, 1), "linear keeps the averaging frequency");
        assertEquals(4.0, AveragingPolicy.parse("sqrt:0").rateFactor(16, 64, 1, 0), 1e-12, "sqrt without warm-up");
        assertEquals(1.0, AveragingPolicy.LOCAL.rateFactor(16, 64, 3, 1), "local leaves the rate alone");
    }

    @Test
    void postLocalAveragesEveryMinibatchDuringTheWarmUpThenEveryF() {
        AveragingPolicy p = AveragingPolicy.parse("post-local:2");
        assertEquals(1, p.frequency(5, 1));
        assertEquals(1, p.frequency(5, 2));
        assertEquals(5, p.frequency(5, 3));
        assertEquals(4.0, p.rateFactor(4, 64, 3, 0), "the linear rate after the warm-up");
    }

    @Test
    void slowmoTakesItsMomentumFromTheWorkersUnlessGivenOne() {
        AveragingPolicy slowmo = AveragingPolicy.parse("slowmo");
        assertEquals(0.5, slowmo.outerMomentum(4), 1e-12, "1 - 1/sqrt(W) on top of the workers' own momentum");
        assertEquals(0.75, slowmo.outerMomentum(16), 1e-12);
        assertEquals(0.875, AveragingPolicy.parse("slowmo-reset").outerMomentum(8), 1e-12, "block momentum's 1 - 1/W");
        assertEquals(0.7, AveragingPolicy.parse("slowmo:0.7").outerMomentum(8), 1e-12);
        assertEquals(1.0, slowmo.rateFactor(8, 64, 1, 0), "slowmo leaves the rate alone");
        assertEquals(0.0, AveragingPolicy.parse("sqrt").outerMomentum(8), "only slowmo steps after the average");
    }

    /**
     * sync cuts each shard among as many workers as its smallest minibatch allows (a divisor of W): up to that, W workers
     * take one JVM's steps at the shards' minibatch; beyond it a round takes W / pieces shards at a rate grown by the
     * square root of that, warmed up like sqrt.
     */
    @Test
    void syncCutsShardsAmongTheWorkersDownToItsSmallestMinibatch() {
        AveragingPolicy sync = AveragingPolicy.parse("sync");
        assertEquals("sync:8", sync.toString());
        int[][] workersPieces = {{1, 1}, {2, 2}, {3, 3}, {4, 4}, {8, 8}, {12, 6}, {16, 8}, {64, 8}};
        for (int[] wp : workersPieces) {
            assertEquals(wp[1], sync.pieces(wp[0], 64), "pieces of a 64-example shard for " + wp[0] + " workers");
            assertEquals(Math.sqrt(wp[0] / wp[1]), sync.rateFactor(wp[0], 64, 3, 0), 1e-12, "the rate after the warm-up, W = " + wp[0]);
        }
        assertEquals(1.0, sync.rateFactor(8, 64, 1, 0), "one JVM's rate while the shard is cut among all workers");
        assertEquals(1 + (Math.sqrt(2) - 1) / 4, sync.rateFactor(16, 64, 1, 1), 1e-12, "the warm-up's first step");
        assertEquals(16, AveragingPolicy.parse("sync:1").pieces(16, 64), "pieces of 4 examples when allowed");
        assertEquals(2, AveragingPolicy.parse("sync:16").pieces(4, 32));
        assertEquals(1, AveragingPolicy.LOCAL.pieces(16, 64), "other policies fit whole shards");
        assertEquals(new RoundPlan(1, 8, 0.05 * Math.sqrt(2), 0, false), sync.plan(16, 64, 3, 0, 0.05, 5),
                "a round is one minibatch per worker, whatever --averaging-frequency says");
        SparkconvException e = assertThrows(SparkconvException.class, () -> AveragingPolicy.parse("sync:0"));
        assertEquals("--averaging-policy: sync's smallest minibatch per worker must be 1 or more examples, got 0", e.getMessage());
        assertThrows(SparkconvException.class, () -> AveragingPolicy.parse("sync:x"));
        // A short shard of 3 in 4 pieces: its empty first piece is no minibatch (the trainer never loads it).
        assertEquals(List.of("a#piece=0/4", "a#piece=1/4", "a#piece=2/4", "a#piece=3/4", "b#piece=1/4", "b#piece=2/4",
                "b#piece=3/4"), SparkTrainer.pieces(List.of("a", "b"), Map.of("a", 64, "b", 3), 4));
        assertEquals(List.of("a", "b"), SparkTrainer.pieces(List.of("a", "b"), Map.of("a", 64, "b", 3), 1));
    }

    /** A plan is everything the policy decides for a half epoch's rounds, and one worker's plan is one JVM's. */
    @Test
    void aPlanHoldsTheHalfEpochsFrequencyRateAndOuterStep() {
        assertEquals(new RoundPlan(1, 1, 0.05 * 1.75, 0, false), AveragingPolicy.parse("post-local:2").plan(4, 64, 1, 1, 0.05, 5));
        assertEquals(new RoundPlan(5, 1, 0.04 * 4, 0, false), AveragingPolicy.parse("sqrt:0").plan(16, 64, 3, 0, 0.04, 5));
        assertEquals(new RoundPlan(5, 1, 0.05, 0.875, true), AveragingPolicy.parse("slowmo-reset").plan(8, 64, 2, 1, 0.05, 5));
        for (String text : new String[] {"local", "linear", "post-local", "slowmo-reset"}) {
            assertEquals(new RoundPlan(5, 1, 0.05, 0, AveragingPolicy.parse(text).resetsLocalState()),
                    AveragingPolicy.parse(text).plan(1, 64, 3, 1, 0.05, 5), text + " with one worker");
        }
        assertEquals(null, new RoundPlan(5, 1, 0.05, 0, false).outerStep(new float[3]), "no outer step without momentum");
    }

    /** β = 0.5, rate 0.1: the first step is the average; the second adds half the first displacement again. */
    @Test
    void theOuterStepIsSlowMosWithOuterRateOne() {
        float[] velocity = new float[1];
        OuterMomentum step = new OuterMomentum(0.5f, 0.1f, velocity, false);
        float[] average = {0.8f};
        step.step(new float[] {1f}, average);
        assertEquals(0.8f, average[0], 1e-6f);
        assertEquals(2f, velocity[0], 1e-5f);
        float[] next = {0.6f};
        step.step(new float[] {0.8f}, next);
        assertEquals(0.8f - 0.1f * (0.5f * 2f + 2f), next[0], 1e-6f); // u = 0.5·2 + 0.2/0.1 = 3
    }

    @ParameterizedTest
    @ValueSource(strings = {"local", "linear:2", "sqrt:1", "post-local:0.5", "slowmo", "slowmo:0.7", "slowmo-reset:0.5"})
    void textRoundTrips(String text) {
        assertEquals(text, AveragingPolicy.parse(text).toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "bmuf", "linear:x", "linear:-1", "local:2", "sqrt:1:2", "slowmo:1", "slowmo:-0.1", "slowmo:x"})
    void badPoliciesAreRefusedInOneLine(String text) {
        SparkconvException e = assertThrows(SparkconvException.class, () -> AveragingPolicy.parse(text));
        assertEquals(1, e.getMessage().lines().count(), e.getMessage());
        assertEquals(true, e.getMessage().startsWith("--averaging-policy"), e.getMessage());
    }
}
