package sparkconv.data;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.util.Random;

import javax.imageio.ImageIO;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

class PngDecoderTest {
    /** Gradients plus noise: ImageIO's writer then picks every row filter (None, Sub, Up, Average, Paeth). */
    private static BufferedImage pattern(int w, int h, int type, long seed) {
        BufferedImage img = new BufferedImage(w, h, type);
        Random r = new Random(seed);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int v = (x * 9 + y * 5 + r.nextInt(y % 3 == 0 ? 2 : 60)) & 0xff;
                img.setRGB(x, y, (v << 16) | (((v * 3) & 0xff) << 8) | ((255 - v) & 0xff));
            }
        }
        return img;
    }

    private static byte[] samples(BufferedImage img) {
        return (byte[]) img.getRaster().getDataElements(0, 0, img.getWidth(), img.getHeight(), null);
    }

    @Test
    void decodesGreyAndRgbPngsExactlyAsImageIo() throws Exception {
        int[][] sizes = {{28, 28}, {1, 1}, {33, 7}, {64, 48}};
        for (int type : new int[]{BufferedImage.TYPE_BYTE_GRAY, BufferedImage.TYPE_3BYTE_BGR}) {
            for (int[] s : sizes) {
                byte[] png = TestImages.encode(pattern(s[0], s[1], type, s[0] * 31L + s[1]), "png");
                BufferedImage fast = PngDecoder.decode(png);
                assertNotNull(fast, "8-bit grey / RGB takes the direct path");
                BufferedImage reference = ImageIO.read(new ByteArrayInputStream(png));
                assertEquals(reference.getType(), fast.getType());
                assertArrayEquals(samples(reference), samples(fast), s[0] + "x" + s[1] + " type " + type);
            }
        }
    }

    @Test
    void palettedAndAlphaPngsAreLeftToImageIo() {
        assertNull(PngDecoder.decode(TestImages.encode(new BufferedImage(4, 4, BufferedImage.TYPE_INT_ARGB), "png")));
        assertNull(PngDecoder.decode(TestImages.encode(new BufferedImage(4, 4, BufferedImage.TYPE_BYTE_BINARY), "png")));
    }

    @Test
    void cutOrDamagedDataIsCorrupt() {
        byte[] png = TestImages.encode(pattern(28, 28, BufferedImage.TYPE_BYTE_GRAY, 1), "png");
        for (int keep : new int[]{png.length - 12, png.length - 40, 60}) {
            assertEquals(QuarantineReason.CORRUPT_IMAGE,
                    assertThrows(BadImage.class, () -> PngDecoder.decode(TestImages.truncated(png, keep))).reason(), "cut at " + keep);
        }
        byte[] damaged = png.clone();
        for (int i = 45; i < 80; i++) {
            damaged[i] ^= 0x5a;
        }
        assertEquals(QuarantineReason.CORRUPT_IMAGE, assertThrows(BadImage.class, () -> PngDecoder.decode(damaged)).reason());
    }
}
