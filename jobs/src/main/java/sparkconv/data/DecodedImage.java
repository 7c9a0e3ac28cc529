package sparkconv.data;

import java.io.Serializable;

/** An {@link ImageEntry} after decoding: unsigned channel-first pixels, or the reason it is quarantined. */
public record DecodedImage(String path, String key, String label, String split, byte[] pixels, long bytes, String reason,
                           String detail) implements Serializable {

    public boolean ok() {
        return reason == null;
    }

    /** Decodes an entry; a bad image becomes a quarantined record, never an exception. */
    public static DecodedImage decode(ImageEntry e, ImageDecoder decoder) {
        if (!e.ok()) {
            return new DecodedImage(e.path(), e.key(), e.label(), e.split(), null, e.bytes(), e.reason(), e.detail());
        }
        try {
            return new DecodedImage(e.path(), e.key(), e.label(), e.split(), decoder.decode(e.content()), e.bytes(), null, null);
        } catch (BadImage bad) {
            return new DecodedImage(e.path(), e.key(), e.label(), e.split(), null, e.bytes(), bad.reason().code(), bad.getMessage());
        }
    }
}
