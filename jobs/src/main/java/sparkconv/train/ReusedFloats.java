package sparkconv.train;

import java.util.HashMap;
import java.util.Map;

/**
 * Float arrays for one use, kept across a barrier stage's pieces and rounds, one per length (a vector's last piece is
 * shorter than the others). AlexNet's exchange moves 2 x 476 MiB a round in 64 MiB pieces; allocating every piece's
 * arrays afresh (zeroed, and humongous objects for G1) was ~2 GiB of allocation per worker and round.
 */
final class ReusedFloats {
    private final Map<Integer, float[]> byLength = new HashMap<>();

    /** An array of {@code length} floats, the same one every time for this length; its contents are the last user's. */
    float[] of(int length) {
        return byLength.computeIfAbsent(length, float[]::new);
    }
}
