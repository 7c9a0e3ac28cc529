package sparkconv.data;

/**
 * Format and declared dimensions of an image, read from its first bytes without decoding: the PNG IHDR chunk or the
 * JPEG SOFn segment. Checking the declared size here, before any pixel buffer is allocated, is what stops
 * decompression bombs (a few hundred bytes that declare a 100,000 x 100,000 image).
 */
public record ImageHeader(String format, long width, long height) {
    private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

    public long pixels() {
        return width * height;
    }

    /** Reads the header of a PNG or JPEG; any other content is a {@link BadImage} with the matching reason. */
    public static ImageHeader read(byte[] b) {
        if (b.length == 0) {
            throw new BadImage(QuarantineReason.EMPTY_FILE, "zero-byte file");
        }
        if (startsWith(b, PNG_SIGNATURE)) {
            return png(b);
        }
        if (b.length >= 3 && (b[0] & 0xff) == 0xff && (b[1] & 0xff) == 0xd8 && (b[2] & 0xff) == 0xff) {
            return jpeg(b);
        }
        String other = otherImageFormat(b);
        if (other != null) {
            throw new BadImage(QuarantineReason.UNSUPPORTED_FORMAT, other + " images are not supported (PNG and JPEG only)");
        }
        throw new BadImage(QuarantineReason.NOT_AN_IMAGE, "content is neither PNG nor JPEG");
    }

    private static ImageHeader png(byte[] b) {
        // signature(8) | length(4) "IHDR"(4) width(4) height(4) ...
        if (b.length < 24 || b[12] != 'I' || b[13] != 'H' || b[14] != 'D' || b[15] != 'R') {
            throw new BadImage(QuarantineReason.CORRUPT_IMAGE, "PNG without an IHDR chunk");
        }
        return checked("PNG", int32(b, 16), int32(b, 20));
    }

    private static ImageHeader jpeg(byte[] b) {
        int i = 2;
        while (i + 3 < b.length) {
            if ((b[i] & 0xff) != 0xff) {
                throw new BadImage(QuarantineReason.CORRUPT_IMAGE, "JPEG marker expected at byte " + i);
            }
            int marker = b[i + 1] & 0xff;
            if (marker == 0xff) {
                i++; // fill byte
                continue;
            }
            if (marker == 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
                i += 2; // markers without a length
                continue;
            }
            int length = ((b[i + 2] & 0xff) << 8) | (b[i + 3] & 0xff);
            boolean startOfFrame = marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc;
            if (startOfFrame) {
                if (i + 8 >= b.length) {
                    break;
                }
                int height = ((b[i + 5] & 0xff) << 8) | (b[i + 6] & 0xff);
                int width = ((b[i + 7] & 0xff) << 8) | (b[i + 8] & 0xff);
                return checked("JPEG", width, height);
            }
            if (marker == 0xda || length < 2) {
                throw new BadImage(QuarantineReason.CORRUPT_IMAGE, "JPEG without a frame header (SOF) before its data");
            }
            i += 2 + length;
        }
        throw new BadImage(QuarantineReason.CORRUPT_IMAGE, "truncated JPEG header (" + b.length + " bytes, no SOF segment)");
    }

    private static ImageHeader checked(String format, long width, long height) {
        if (width <= 0 || height <= 0) {
            throw new BadImage(QuarantineReason.CORRUPT_IMAGE, format + " header declares " + width + "x" + height + " pixels");
        }
        return new ImageHeader(format, width, height);
    }

    private static String otherImageFormat(byte[] b) {
        if (startsWith(b, new byte[]{'G', 'I', 'F', '8'})) {
            return "GIF";
        }
        if (startsWith(b, new byte[]{'B', 'M'})) {
            return "BMP";
        }
        if (b.length >= 12 && startsWith(b, new byte[]{'R', 'I', 'F', 'F'}) && b[8] == 'W' && b[9] == 'E' && b[10] == 'B' && b[11] == 'P') {
            return "WebP";
        }
        if (startsWith(b, new byte[]{'I', 'I', 42, 0}) || startsWith(b, new byte[]{'M', 'M', 0, 42})) {
            return "TIFF";
        }
        return null;
    }

    private static boolean startsWith(byte[] b, byte[] prefix) {
        if (b.length < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (b[i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    /** Unsigned big-endian 32-bit value, as a long so that values over 2^31 are not mistaken for negative ones. */
    private static long int32(byte[] b, int at) {
        return ((long) (b[at] & 0xff) << 24) | ((b[at + 1] & 0xff) << 16) | ((b[at + 2] & 0xff) << 8) | (b[at + 3] & 0xff);
    }
}
