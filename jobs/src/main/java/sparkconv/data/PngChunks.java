package sparkconv.data;

import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;

/**
 * Checks a PNG's chunk structure and CRCs before any decoding: ImageIO and {@link PngDecoder} both ignore chunk CRCs, so
 * a file damaged in storage or transfer would otherwise be decoded into wrong pixels and kept. Every chunk up to IEND is
 * checked (CRC-32 over type and data, as PNG section 5.3 defines it): a few microseconds for a small image, as CRC32 is
 * a JIT intrinsic.
 */
final class PngChunks {
    private static final int SIGNATURE = 8;

    private PngChunks() {
    }

    /** Throws a {@link BadImage} naming the first chunk that is cut short or whose CRC does not match. */
    static void verify(byte[] b) {
        CRC32 crc = new CRC32();
        int at = SIGNATURE;
        while (at + 8 <= b.length) {
            int length = int32(b, at);
            int type = int32(b, at + 4); // compared as a number: no String per chunk
            if (length < 0 || at + 12L + length > b.length) {
                throw new BadImage(QuarantineReason.CORRUPT_IMAGE, "PNG: truncated " + name(type) + " chunk at byte " + at);
            }
            crc.reset();
            crc.update(b, at + 4, 4 + length);
            int stored = int32(b, at + 8 + length);
            if ((int) crc.getValue() != stored) {
                throw new BadImage(QuarantineReason.CHECKSUM_MISMATCH, String.format(
                        "PNG: %s chunk at byte %d fails its CRC (stored %08x, computed %08x): the file is damaged",
                        name(type), at, stored, (int) crc.getValue()));
            }
            if (type == IEND) {
                return;
            }
            at += 12 + length;
        }
        throw new BadImage(QuarantineReason.CORRUPT_IMAGE, "PNG: truncated (no IEND chunk)");
    }

    private static final int IEND = 0x49454e44;

    /** A chunk type as text, or its hex when damage made it no chunk name (four ASCII letters). */
    private static String name(int type) {
        byte[] text = {(byte) (type >>> 24), (byte) (type >>> 16), (byte) (type >>> 8), (byte) type};
        String s = new String(text, StandardCharsets.ISO_8859_1);
        return s.chars().allMatch(c -> c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') ? s : String.format("0x%08x", type);
    }

    private static int int32(byte[] b, int at) {
        return ((b[at] & 0xff) << 24) | ((b[at + 1] & 0xff) << 16) | ((b[at + 2] & 0xff) << 8) | (b[at + 3] & 0xff);
    }
}
