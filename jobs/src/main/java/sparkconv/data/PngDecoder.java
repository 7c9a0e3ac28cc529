package sparkconv.data;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * A direct decoder for the PNGs datasets are made of: 8-bit grey or RGB, not interlaced, no transparency or colour
 * profile. ImageIO spends most of its ~60 us per 28x28 image on stream and metadata machinery; inflating the IDAT data
 * and undoing the row filters here takes a few microseconds. Anything else returns null and goes to ImageIO. A file
 * whose compressed data is cut short, does not inflate to exactly the declared rows, or lacks IEND is corrupt.
 */
final class PngDecoder {
    private static final int GREY = 0;
    private static final int RGB = 2;

    private PngDecoder() {
    }

    /** The image, or null if this PNG variant is left to ImageIO. The header has been checked by {@link ImageHeader}. */
    static BufferedImage decode(byte[] b) {
        int width = int32(b, 16);
        int height = int32(b, 20);
        int bitDepth = b[24] & 0xff;
        int colourType = b[25] & 0xff;
        int interlace = b[28] & 0xff;
        if (bitDepth != 8 || (colourType != GREY && colourType != RGB) || interlace != 0) {
            return null;
        }
        int bpp = colourType == GREY ? 1 : 3;
        ByteArrayOutputStream idat = new ByteArrayOutputStream(b.length);
        boolean end = false;
        int at = 8;
        while (at + 8 <= b.length) {
            int length = int32(b, at);
            String type = new String(b, at + 4, 4, java.nio.charset.StandardCharsets.ISO_8859_1);
            if (length < 0 || at + 12L + length > b.length) {
                throw new BadImage(QuarantineReason.CORRUPT_IMAGE, "PNG: truncated " + type + " chunk at byte " + at);
            }
            switch (type) {
                case "IDAT" -> idat.write(b, at + 8, length);
                case "tRNS", "iCCP", "sBIT" -> {
                    return null; // transparency or colour management: ImageIO's reading is the reference
                }
                case "IEND" -> end = true;
                default -> {
                    // ancillary chunks (gAMA, pHYs, tEXt, ...) do not change the stored samples
                }
            }
            if (end) {
                break;
            }
            at += 12 + length;
        }
        if (!end) {
            throw new BadImage(QuarantineReason.CORRUPT_IMAGE, "PNG: truncated (no IEND chunk)");
        }
        int stride = width * bpp;
        long expected = (long) height * (stride + 1);
        if (expected > Integer.MAX_VALUE - 8) {
            return null;
        }
        byte[] raw = new byte[(int) expected];
        Inflater inflater = new Inflater();
        try {
            inflater.setInput(idat.toByteArray());
            int n = 0;
            while (n < raw.length) {
                int k = inflater.inflate(raw, n, raw.length - n);
                if (k == 0) {
                    break; // finished early, out of input, or wants a preset dictionary: all corrupt here
                }
                n += k;
            }
            if (n != raw.length) {
                throw new BadImage(QuarantineReason.CORRUPT_IMAGE, "PNG: image data holds " + n + " of " + raw.length + " bytes");
            }
        } catch (DataFormatException e) {
            throw new BadImage(QuarantineReason.CORRUPT_IMAGE, "PNG: corrupt image data: " + e.getMessage());
        } finally {
            inflater.end();
        }
        byte[] pixels = new byte[height * stride];
        for (int y = 0; y < height; y++) {
            unfilter(raw, y * (stride + 1), pixels, y * stride, y == 0 ? -1 : (y - 1) * stride, stride, bpp);
        }
        BufferedImage img = new BufferedImage(width, height, bpp == 1 ? BufferedImage.TYPE_BYTE_GRAY : BufferedImage.TYPE_3BYTE_BGR);
        img.getRaster().setDataElements(0, 0, width, height, pixels); // band order: R, G, B as stored in PNG
        return img;
    }

    /** Undoes one row's filter (PNG spec section 9) into {@code out}; {@code prev} is the previous row's offset or -1. */
    private static void unfilter(byte[] raw, int rowStart, byte[] out, int cur, int prev, int stride, int bpp) {
        int filter = raw[rowStart] & 0xff;
        int in = rowStart + 1;
        for (int i = 0; i < stride; i++) {
            int x = raw[in + i] & 0xff;
            int a = i >= bpp ? out[cur + i - bpp] & 0xff : 0;
            int up = prev >= 0 ? out[prev + i] & 0xff : 0;
            int c = i >= bpp && prev >= 0 ? out[prev + i - bpp] & 0xff : 0;
            int v = switch (filter) {
                case 0 -> x;
                case 1 -> x + a;
                case 2 -> x + up;
                case 3 -> x + ((a + up) >>> 1);
                case 4 -> x + paeth(a, up, c);
                default -> throw new BadImage(QuarantineReason.CORRUPT_IMAGE, "PNG: unknown row filter " + filter);
            };
            out[cur + i] = (byte) v;
        }
    }

    private static int paeth(int a, int b, int c) {
        int p = a + b - c;
        int pa = Math.abs(p - a);
        int pb = Math.abs(p - b);
        int pc = Math.abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    private static int int32(byte[] b, int at) {
        return ((b[at] & 0xff) << 24) | ((b[at + 1] & 0xff) << 16) | ((b[at + 2] & 0xff) << 8) | (b[at + 3] & 0xff);
    }
}
