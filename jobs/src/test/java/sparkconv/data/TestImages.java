package sparkconv.data;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.CRC32;
import java.util.zip.GZIPOutputStream;

import javax.imageio.ImageIO;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipArchiveOutputStream;

/** Images, broken images and archives made by tests: every file a test reads, it writes here first. */
public final class TestImages {
    private TestImages() {
    }

    /** A grey image whose pixels follow a seeded pattern (distinct per seed), encoded as PNG or JPEG. */
    public static byte[] grey(int width, int height, long seed, String format) {
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY);
        Random r = new Random(seed);
        byte[] px = new byte[width * height];
        r.nextBytes(px);
        img.getRaster().setDataElements(0, 0, width, height, px);
        return encode(img, format);
    }

    /** An RGB image with a seeded pattern. */
    public static byte[] rgb(int width, int height, long seed, String format) {
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_3BYTE_BGR);
        Random r = new Random(seed);
        byte[] px = new byte[width * height * 3];
        r.nextBytes(px);
        img.getRaster().setDataElements(0, 0, width, height, px);
        return encode(img, format);
    }

    public static byte[] encode(BufferedImage img, String format) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            if (!ImageIO.write(img, format, out)) {
                throw new IllegalStateException("no ImageIO writer for " + format);
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return out.toByteArray();
    }

    /** The first {@code keep} bytes: a file cut off in transfer. */
    public static byte[] truncated(byte[] data, int keep) {
        return Arrays.copyOf(data, keep);
    }

    /** A PNG whose IHDR declares width x height but that carries almost no data: a decompression bomb's header. */
    public static byte[] pngDeclaring(int width, int height) {
        byte[] png = grey(4, 4, 1, "png");
        java.nio.ByteBuffer.wrap(png, 16, 8).putInt(width).putInt(height);
        CRC32 crc = new CRC32();
        crc.update(png, 12, 17); // "IHDR" + 13 data bytes
        java.nio.ByteBuffer.wrap(png, 29, 4).putInt((int) crc.getValue());
        return png;
    }

    /**
     * The PNG with one bit of the chunk {@code type}'s stored CRC flipped: what a bit flip in storage or transfer does to
     * a file whose pixels still decode.
     */
    public static byte[] pngWithBadCrc(byte[] png, String type) {
        byte[] out = png.clone();
        int at = 8;
        while (at + 8 <= out.length) {
            int length = java.nio.ByteBuffer.wrap(out, at, 4).getInt();
            if (new String(out, at + 4, 4, StandardCharsets.ISO_8859_1).equals(type)) {
                out[at + 8 + length] ^= 0x01;
                return out;
            }
            at += 12 + length;
        }
        throw new IllegalArgumentException("no " + type + " chunk");
    }

    /** A JPEG whose SOF0 segment declares width x height. */
    public static byte[] jpegDeclaring(int width, int height) {
        byte[] jpg = grey(8, 8, 1, "jpeg");
        for (int i = 2; i + 9 < jpg.length; i++) {
            if ((jpg[i] & 0xff) == 0xff && (jpg[i + 1] & 0xff) == 0xc0) {
                java.nio.ByteBuffer.wrap(jpg, i + 5, 4).putShort((short) height).putShort((short) width);
                return jpg;
            }
        }
        throw new IllegalStateException("no SOF0 in the JPEG ImageIO wrote");
    }

    public static byte[] gif() {
        BufferedImage img = new BufferedImage(4, 4, BufferedImage.TYPE_BYTE_INDEXED);
        return encode(img, "gif");
    }

    public static byte[] text(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    public static void write(Path file, byte[] data) throws IOException {
        Files.createDirectories(file.getParent());
        Files.write(file, data);
    }

    /** An archive entry: a file with bytes, or a symlink to {@code linkTarget}. */
    public record Entry(String name, byte[] data, String linkTarget) {
        public static Entry file(String name, byte[] data) {
            return new Entry(name, data, null);
        }

        public static Entry symlink(String name, String target) {
            return new Entry(name, null, target);
        }
    }

    public static void zip(Path file, Entry... entries) throws IOException {
        Files.createDirectories(file.getParent());
        try (ZipArchiveOutputStream zip = new ZipArchiveOutputStream(file.toFile())) {
            for (Entry e : entries) {
                ZipArchiveEntry z = new ZipArchiveEntry(e.name());
                byte[] data = e.data();
                if (e.linkTarget() != null) {
                    z.setUnixMode(0120777); // S_IFLNK: the link target is the entry's content
                    data = e.linkTarget().getBytes(StandardCharsets.UTF_8);
                }
                zip.putArchiveEntry(z);
                zip.write(data);
                zip.closeArchiveEntry();
            }
        }
    }

    public static void tar(Path file, boolean gzip, Entry... entries) throws IOException {
        Files.createDirectories(file.getParent());
        try (OutputStream raw = Files.newOutputStream(file);
             OutputStream maybeGz = gzip ? new GZIPOutputStream(raw) : raw;
             TarArchiveOutputStream tar = new TarArchiveOutputStream(maybeGz)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (Entry e : entries) {
                TarArchiveEntry t;
                if (e.linkTarget() != null) {
                    t = new TarArchiveEntry(e.name(), TarArchiveEntry.LF_SYMLINK);
                    t.setLinkName(e.linkTarget());
                    tar.putArchiveEntry(t);
                } else {
                    // preserveAbsolutePath: keep "/etc/x" and "../x" names as an attacker would write them
                    t = new TarArchiveEntry(e.name(), true);
                    t.setSize(e.data().length);
                    tar.putArchiveEntry(t);
                    tar.write(e.data());
                }
                tar.closeArchiveEntry();
            }
        }
    }

    /** Records in the CIFAR-10 binary layout: a label byte then 3,072 channel-first pixels each. */
    public static byte[] cifar(int[] labels, long seed) {
        Random r = new Random(seed);
        byte[] out = new byte[labels.length * CifarBatches.RECORD];
        r.nextBytes(out);
        for (int i = 0; i < labels.length; i++) {
            out[i * CifarBatches.RECORD] = (byte) labels[i];
        }
        return out;
    }
}
