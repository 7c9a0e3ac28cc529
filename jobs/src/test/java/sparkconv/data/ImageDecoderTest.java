package sparkconv.data;

import java.awt.image.BufferedImage;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ImageDecoderTest {
    private final ImageDecoder grey28 = new ImageDecoder(1, 28, 28, 10_000);

    private static QuarantineReason reasonOf(ImageDecoder decoder, byte[] data) {
        return assertThrows(BadImage.class, () -> decoder.decode(data)).reason();
    }

    @Test
    void greyPngOfTheTargetSizeKeepsItsPixelsExactly() {
        BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
        byte[] px = new byte[28 * 28];
        for (int i = 0; i < px.length; i++) {
            px[i] = (byte) (i * 7);
        }
        img.getRaster().setDataElements(0, 0, 28, 28, px);
        assertArrayEquals(px, grey28.decode(TestImages.encode(img, "png")));
    }

    @Test
    void rgbIsChannelFirstAndGreyIsLuma() {
        BufferedImage img = new BufferedImage(2, 1, BufferedImage.TYPE_INT_RGB);
        img.setRGB(0, 0, 0xff0000);
        img.setRGB(1, 0, 0x0080ff);
        byte[] png = TestImages.encode(img, "png");
        byte[] rgb = new ImageDecoder(3, 1, 2, 100).decode(png);
        assertArrayEquals(new byte[]{(byte) 255, 0, 0, (byte) 128, 0, (byte) 255}, rgb, "R plane, G plane, B plane");
        byte[] grey = new ImageDecoder(1, 1, 2, 100).decode(png);
        assertEquals((299 * 255 + 500) / 1000, grey[0] & 0xff);
        assertEquals((587 * 128 + 114 * 255 + 500) / 1000, grey[1] & 0xff);
    }

    @Test
    void widerImagesAreScaledToTheHeightAndCentreCropped() {
        // 8x4: left half black, right half white; scaled to 4 high = 8 wide, the centre 4x4 crop is 2 black, 2 white columns
        BufferedImage img = new BufferedImage(8, 4, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < 4; y++) {
            for (int x = 4; x < 8; x++) {
                img.getRaster().setSample(x, y, 0, 255);
            }
        }
        byte[] px = new ImageDecoder(1, 4, 4, 100).decode(TestImages.encode(img, "png"));
        for (int y = 0; y < 4; y++) {
            assertEquals(0, px[y * 4] & 0xff);
            assertEquals(255, px[y * 4 + 3] & 0xff);
        }
    }

    @Test
    void jpegDecodesToTheTargetSize() {
        assertEquals(3 * 28 * 28, new ImageDecoder(3, 28, 28, 10_000).decode(TestImages.rgb(40, 30, 3, "jpeg")).length);
    }

    @Test
    void zeroByteFile() {
        assertEquals(QuarantineReason.EMPTY_FILE, reasonOf(grey28, new byte[0]));
    }

    @Test
    void textFileIsNotAnImage() {
        assertEquals(QuarantineReason.NOT_AN_IMAGE, reasonOf(grey28, TestImages.text("label,notes\ncat,fluffy\n")));
    }

    @Test
    void gifIsAnUnsupportedFormat() {
        assertEquals(QuarantineReason.UNSUPPORTED_FORMAT, reasonOf(grey28, TestImages.gif()));
    }

    @Test
    void truncatedPngIsCorrupt() {
        byte[] png = TestImages.grey(28, 28, 5, "png");
        assertEquals(QuarantineReason.CORRUPT_IMAGE, reasonOf(grey28, TestImages.truncated(png, png.length / 2)));
    }

    @Test
    void truncatedJpegIsCorrupt() {
        byte[] jpg = TestImages.grey(28, 28, 5, "jpeg");
        assertEquals(QuarantineReason.CORRUPT_IMAGE, reasonOf(grey28, TestImages.truncated(jpg, jpg.length * 2 / 3)));
    }

    @Test
    void pngWithGarbageDataFailsItsChecksum() {
        byte[] png = TestImages.grey(28, 28, 5, "png");
        for (int i = 41; i < png.length - 12; i++) {
            png[i] = (byte) (i * 31);
        }
        assertEquals(QuarantineReason.CHECKSUM_MISMATCH, reasonOf(grey28, png));
    }

    /** Both paths: the direct decoder's (8-bit grey) and ImageIO's (with alpha); ImageIO alone would decode them all. */
    @Test
    void aPngWhoseChunkCrcIsWrongIsQuarantinedWhicheverDecoderWouldReadIt() throws Exception {
        byte[] direct = TestImages.grey(28, 28, 5, "png");
        byte[] viaImageIo = TestImages.encode(new BufferedImage(28, 28, BufferedImage.TYPE_INT_ARGB), "png");
        for (byte[] png : new byte[][]{direct, viaImageIo}) {
            assertEquals(28 * 28, grey28.decode(png).length);
            for (String chunk : new String[]{"IHDR", "IDAT", "IEND"}) {
                byte[] damaged = TestImages.pngWithBadCrc(png, chunk);
                assertTrue(javax.imageio.ImageIO.read(new java.io.ByteArrayInputStream(damaged)) != null, "ImageIO ignores the CRC");
                BadImage bad = assertThrows(BadImage.class, () -> grey28.decode(damaged));
                assertEquals(QuarantineReason.CHECKSUM_MISMATCH, bad.reason());
                assertTrue(bad.getMessage().startsWith("PNG: " + chunk + " chunk at byte ") && bad.getMessage().contains("fails its CRC"),
                        bad.getMessage());
            }
        }
    }

    @Test
    void pngDeclaringTooManyPixelsIsRejectedFromItsHeader() {
        BadImage bad = assertThrows(BadImage.class, () -> grey28.decode(TestImages.pngDeclaring(100_000, 100_000)));
        assertEquals(QuarantineReason.DECOMPRESSION_BOMB, bad.reason());
        assertTrue(bad.getMessage().contains("100000x100000"), bad.getMessage());
    }

    @Test
    void jpegDeclaringTooManyPixelsIsRejectedFromItsHeader() {
        assertEquals(QuarantineReason.DECOMPRESSION_BOMB, reasonOf(grey28, TestImages.jpegDeclaring(60_000, 60_000)));
    }

    @Test
    void headerReadsDeclaredSizes() {
        ImageHeader png = ImageHeader.read(TestImages.grey(31, 17, 1, "png"));
        assertEquals(new ImageHeader("PNG", 31, 17), png);
        ImageHeader jpg = ImageHeader.read(TestImages.grey(31, 17, 1, "jpeg"));
        assertEquals(new ImageHeader("JPEG", 31, 17), jpg);
    }
}
