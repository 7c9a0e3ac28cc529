package sparkconv.data;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** The one sha256 of sparkconv: of shards, source files, model versions and checkpoints, as lowercase hex. */
public final class Checksums {
    private static final int BUFFER = 64 * 1024;

    private Checksums() {
    }

    public static String sha256(byte[] data) {
        return HexFormat.of().formatHex(digest().digest(data));
    }

    /**
     * The sha256 of everything {@code in} holds, copied to {@code copy} on the way (null: nothing copied), so a file
     * is read once to be both checked and used.
     */
    public static String sha256(InputStream in, OutputStream copy) throws IOException {
        MessageDigest d = digest();
        byte[] buf = new byte[BUFFER];
        for (int n; (n = in.read(buf)) > 0; ) {
            d.update(buf, 0, n);
            if (copy != null) {
                copy.write(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(d.digest());
    }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
