package sparkconv.data;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import javax.imageio.IIOException;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.MemoryCacheImageInputStream;

import sparkconv.SparkconvException;

/**
 * Decodes PNG / JPEG bytes into unsigned channel-first pixels of a fixed size, the form shards and models take.
 *
 * <p>Decoding uses the JDK's ImageIO readers, after a direct path for plain 8-bit grey / RGB PNGs ({@link PngDecoder}). DataVec's {@code NativeImageLoader} would need the opencv / ffmpeg
 * natives (~700 MB, excluded from our build) and decodes in C++ outside the JVM's memory checks; ImageIO is pure Java,
 * so a hostile file fails with an exception inside one task, and it reads PNG and JPEG (all we accept) quickly.
 * TwelveMonkeys would add CMYK JPEG and more formats; none is needed for training data, so it is not a dependency.
 * Before any decoding, a PNG's chunk CRCs are verified ({@link PngChunks}) and the declared size is checked from the
 * header ({@link ImageHeader}) against {@code maxPixels}.
 *
 * <p>Resizing: the shorter side is scaled to the target (bilinear) and the longer side centre-cropped, so the aspect
 * ratio is kept. Grey is ITU-R BT.601 luma of RGB; transparent pixels are composited over black.
 */
public record ImageDecoder(int channels, int height, int width, long maxPixels) implements Serializable {
    public static final long DEFAULT_MAX_PIXELS = 64L * 1024 * 1024;
    public static final String RESIZE = "scale-shorter-side-bilinear-centre-crop";

    /** ImageIO readers are not thread-safe but are costly to look up: one per format per task thread. */
    private static final ThreadLocal<Map<String, Reader>> READERS = ThreadLocal.withInitial(HashMap::new);

    static {
        ImageIO.setUseCache(false); // decode from memory, never via temporary files
    }

    public ImageDecoder {
        if (channels != 1 && channels != 3) {
            throw new SparkconvException("channels must be 1 (grey) or 3 (RGB), got " + channels);
        }
        if (height < 1 || width < 1) {
            throw new SparkconvException("image size must be positive, got " + height + "x" + width);
        }
        if (maxPixels < 1) {
            throw new SparkconvException("the pixel limit must be positive, got " + maxPixels);
        }
    }

    public int imageBytes() {
        return channels * height * width;
    }

    /** Pixels (C, H, W) of an encoded PNG / JPEG; any problem is a {@link BadImage}. */
    public byte[] decode(byte[] content) {
        ImageHeader header = ImageHeader.read(content);
        boolean png = header.format().equals("PNG");
        if (png) {
            PngChunks.verify(content); // before the declared size is trusted: the IHDR's CRC covers it
        }
        if (header.pixels() > maxPixels) {
            throw new BadImage(QuarantineReason.DECOMPRESSION_BOMB, String.format("%s header declares %dx%d = %,d pixels, over the limit of %,d",
                    header.format(), header.width(), header.height(), header.pixels(), maxPixels));
        }
        BufferedImage img = png ? PngDecoder.decode(content) : null;
        if (img == null) {
            img = READERS.get().computeIfAbsent(header.format(), Reader::new).read(header.format(), content);
        }
        return toChw(img);
    }

    /** Already-decoded channel-first pixels (CIFAR records) at this decoder's channels and size. */
    public byte[] fromChw(byte[] chw, int c, int h, int w) {
        if (c == channels && h == height && w == width) {
            return chw;
        }
        BufferedImage img = new BufferedImage(w, h, c == 1 ? BufferedImage.TYPE_BYTE_GRAY : BufferedImage.TYPE_3BYTE_BGR);
        int plane = h * w;
        byte[] interleaved = new byte[plane * c];
        for (int i = 0; i < plane; i++) {
            for (int k = 0; k < c; k++) {
                interleaved[i * c + k] = chw[k * plane + i]; // data elements are in band order: R, G, B
            }
        }
        img.getRaster().setDataElements(0, 0, w, h, interleaved);
        return toChw(img);
    }

    private byte[] toChw(BufferedImage img) {
        int canvasType = img.getType() == BufferedImage.TYPE_BYTE_GRAY && channels == 1
                ? BufferedImage.TYPE_BYTE_GRAY : BufferedImage.TYPE_3BYTE_BGR;
        BufferedImage canvas = img;
        if (img.getWidth() != width || img.getHeight() != height || img.getType() != canvasType) {
            canvas = new BufferedImage(width, height, canvasType);
            Graphics2D g = canvas.createGraphics();
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
            double scale = Math.max(width / (double) img.getWidth(), height / (double) img.getHeight());
            int w = (int) Math.round(img.getWidth() * scale);
            int h = (int) Math.round(img.getHeight() * scale);
            g.drawImage(img, (width - w) / 2, (height - h) / 2, w, h, null);
            g.dispose();
        }
        byte[] data = (byte[]) canvas.getRaster().getDataElements(0, 0, width, height, null);
        if (canvasType == BufferedImage.TYPE_BYTE_GRAY) {
            return data;
        }
        int plane = width * height;
        byte[] out = new byte[channels * plane];
        for (int i = 0; i < plane; i++) {
            int r = data[3 * i] & 0xff; // band order, whatever the byte layout in memory
            int g = data[3 * i + 1] & 0xff;
            int b = data[3 * i + 2] & 0xff;
            if (channels == 1) {
                out[i] = (byte) ((299 * r + 587 * g + 114 * b + 500) / 1000);
            } else {
                out[i] = (byte) r;
                out[plane + i] = (byte) g;
                out[2 * plane + i] = (byte) b;
            }
        }
        return out;
    }

    /** One ImageIO reader with a warning listener: a truncated JPEG only warns ("Premature end of JPEG file"). */
    private static final class Reader {
        final ImageReader reader;
        final List<String> warnings = new ArrayList<>();

        Reader(String format) {
            var it = ImageIO.getImageReadersByFormatName(format);
            if (!it.hasNext()) {
                throw new IllegalStateException("this JVM has no ImageIO reader for " + format);
            }
            reader = it.next();
            reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
        }

        BufferedImage read(String format, byte[] content) {
            warnings.clear();
            try (var in = new MemoryCacheImageInputStream(new ByteArrayInputStream(content))) {
                reader.setInput(in, true, true);
                BufferedImage img = reader.read(0);
                if (!warnings.isEmpty()) {
                    throw new BadImage(QuarantineReason.CORRUPT_IMAGE, format + ": " + warnings.get(0));
                }
                return img;
            } catch (IIOException e) {
                String message = e.getMessage() == null ? "" : e.getMessage();
                QuarantineReason reason = message.startsWith("Unsupported") ? QuarantineReason.UNSUPPORTED_FORMAT : QuarantineReason.CORRUPT_IMAGE;
                throw new BadImage(reason, format + ": " + message + (e.getCause() != null ? " (" + e.getCause() + ")" : ""));
            } catch (IOException | RuntimeException e) {
                if (e instanceof BadImage bad) {
                    throw bad;
                }
                throw new BadImage(QuarantineReason.CORRUPT_IMAGE, format + ": " + e);
            } finally {
                reader.setInput(null);
            }
        }
    }
}
