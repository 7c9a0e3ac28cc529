package sparkconv.data;

import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;

import sparkconv.SparkconvException;

/**
 * An IDX file (the MNIST / Fashion-MNIST format): magic {@code 0x0000 <type> <ndims>}, big-endian int32
 * dimensions, then the unsigned-byte payload. Gzip is detected by its magic bytes, not the file name.
 */
public record IdxFile(String source, int[] dims, byte[] data) {
    static final int UNSIGNED_BYTE = 0x08;

    public int count() {
        return dims[0];
    }

    /** Elements per item (e.g. 28*28 for images, 1 for labels). */
    public int itemSize() {
        int n = 1;
        for (int i = 1; i < dims.length; i++) {
            n *= dims[i];
        }
        return n;
    }

    public static IdxFile parse(String source, byte[] raw) {
        byte[] bytes = raw;
        if (raw.length >= 2 && (raw[0] & 0xff) == 0x1f && (raw[1] & 0xff) == 0x8b) {
            bytes = gunzip(source, raw);
        }
        if (bytes.length < 4) {
            throw new SparkconvException(source + ": not an IDX file (" + bytes.length + " bytes, need a 4-byte magic number)");
        }
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        int magic = buf.getInt();
        int type = (magic >> 8) & 0xff;
        int ndims = magic & 0xff;
        if ((magic >>> 16) != 0 || ndims < 1 || ndims > 4) {
            throw new SparkconvException(String.format("%s: wrong IDX magic number 0x%08x (expected 0x000008NN)", source, magic));
        }
        if (type != UNSIGNED_BYTE) {
            throw new SparkconvException(String.format("%s: IDX element type 0x%02x is not supported (only unsigned byte, 0x08)", source, type));
        }
        if (bytes.length < 4 + 4 * ndims) {
            throw new SparkconvException(source + ": truncated IDX header (" + ndims + " dimensions declared)");
        }
        int[] dims = new int[ndims];
        long expected = 1;
        for (int i = 0; i < ndims; i++) {
            dims[i] = buf.getInt();
            if (dims[i] <= 0) {
                throw new SparkconvException(source + ": IDX dimension " + i + " is " + dims[i]);
            }
            expected *= dims[i];
        }
        long actual = bytes.length - buf.position();
        if (actual != expected) {
            throw new SparkconvException(String.format("%s: %s IDX payload: header declares %s = %d bytes, file has %d",
                    source, actual < expected ? "truncated" : "oversized", Arrays.toString(dims), expected, actual));
        }
        return new IdxFile(source, dims, Arrays.copyOfRange(bytes, buf.position(), bytes.length));
    }

    private static byte[] gunzip(String source, byte[] raw) {
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(raw))) {
            return in.readAllBytes();
        } catch (EOFException e) {
            throw new SparkconvException(source + ": truncated gzip stream");
        } catch (IOException e) {
            throw new SparkconvException(source + ": corrupt gzip stream: " + e.getMessage());
        }
    }
}
