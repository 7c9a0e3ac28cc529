package sparkconv.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

/** Pixel accuracy, IoU and boundary IoU on hand-drawn 16x16 masks (boundary band: 2 pixels). */
class SegmentationMetricsTest {
    private static final List<String> CLASSES = List.of("background", "square");

    /** An 8x8 square of class 1 whose left column is {@code left}, rows 4..11, on a 16x16 background. */
    private static int[] square(int left) {
        int[] m = new int[256];
        for (int y = 4; y < 12; y++) {
            for (int x = left; x < left + 8; x++) {
                m[y * 16 + x] = 1;
            }
        }
        return m;
    }

    @Test
    void perfectPredictionScoresOne() {
        SegmentationMetrics.Counts c = new SegmentationMetrics.Counts(2);
        c.add(square(4), square(4), 16, 16);
        SegmentationMetrics m = SegmentationMetrics.of("t", c, CLASSES);
        assertEquals(1.0, m.pixelAccuracy());
        assertEquals(1.0, m.meanIoU());
        assertEquals(1.0, m.meanBoundaryIoU());
        assertEquals(64, m.perClass().get(1).pixels());
    }

    @Test
    void aOnePixelShiftCostsBoundaryIoUMoreThanIoU() {
        SegmentationMetrics.Counts c = new SegmentationMetrics.Counts(2);
        c.add(square(4), square(5), 16, 16);
        SegmentationMetrics m = SegmentationMetrics.of("t", c, CLASSES);
        // 8 truth-only + 8 predicted-only pixels of 256; the squares overlap in 56 of 72
        assertEquals(240 / 256.0, m.pixelAccuracy(), 1e-12);
        assertEquals(56 / 72.0, m.perClass().get(1).iou(), 1e-12);
        assertEquals(184 / 200.0, m.perClass().get(0).iou(), 1e-12);
        double boundary = m.perClass().get(1).boundaryIoU();
        assertTrue(boundary > 0 && boundary < m.perClass().get(1).iou(), "boundary IoU " + boundary);
        assertEquals(m.perClass().get(1).iou(), m.foregroundMeanIoU(), 1e-12);
    }

    @Test
    void countsMergeAcrossPartitions() {
        SegmentationMetrics.Counts a = new SegmentationMetrics.Counts(2);
        a.add(square(4), square(4), 16, 16);
        SegmentationMetrics.Counts b = new SegmentationMetrics.Counts(2);
        b.add(square(4), square(5), 16, 16);
        SegmentationMetrics m = SegmentationMetrics.of("t", a.merge(b), CLASSES);
        assertEquals(2, m.images());
        assertEquals(512, m.pixels());
        assertEquals(496 / 512.0, m.pixelAccuracy(), 1e-12);
        assertEquals(120 / 136.0, m.perClass().get(1).iou(), 1e-12);
    }
}
