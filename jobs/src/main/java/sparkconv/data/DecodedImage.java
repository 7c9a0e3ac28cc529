package sparkconv.data;

import java.io.Serializable;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;

/** An {@link ImageEntry} after decoding: unsigned channel-first pixels, or the reason it is quarantined. */
public record DecodedImage(String path, String key, String label, String split, byte[] pixels, long bytes, String reason,
                           String detail) implements Serializable {

    public boolean ok() {
        return reason == null;
    }

    /** The same image assigned to a split. */
    public DecodedImage withSplit(String split) {
        return new DecodedImage(path, key, label, split, pixels, bytes, reason, detail);
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

    /** Registers {@link KryoSerializer} with sparkconv's Kryo (listed in META-INF/services). */
    public static final class KryoRegistration implements sparkconv.spark.KryoRegistrator.Registration {
        @Override
        public void register(Kryo kryo) {
            kryo.register(DecodedImage.class, new KryoSerializer());
        }
    }

    /**
     * Field by field: decoded images are cached serialized and shuffled, and the Java serialization records get by
     * default writes a class description per image (several times the cost, and the size, of a 28x28 image).
     */
    public static final class KryoSerializer extends com.esotericsoftware.kryo.Serializer<DecodedImage> {
        @Override
        public void write(Kryo kryo, Output out, DecodedImage d) {
            out.writeString(d.path);
            out.writeString(d.key);
            out.writeString(d.label);
            out.writeString(d.split);
            out.writeInt(d.pixels == null ? -1 : d.pixels.length, true);
            if (d.pixels != null) {
                out.writeBytes(d.pixels);
            }
            out.writeLong(d.bytes, true);
            out.writeString(d.reason);
            out.writeString(d.detail);
        }

        @Override
        public DecodedImage read(Kryo kryo, Input in, Class<DecodedImage> type) {
            String path = in.readString();
            String key = in.readString();
            String label = in.readString();
            String split = in.readString();
            int length = in.readInt(true);
            byte[] pixels = length < 0 ? null : in.readBytes(length);
            return new DecodedImage(path, key, label, split, pixels, in.readLong(true), in.readString(), in.readString());
        }
    }
}
