package sparkconv.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.apache.hadoop.fs.Path;

/**
 * CIFAR-10 binary batches ({@code data_batch_N.bin}, {@code test_batch.bin}): records of one label byte and 3,072
 * pixel bytes (32x32 red plane, then green, then blue), read by {@link CifarReader}. Records of {@code test_batch}
 * form the test split; a record whose label is not a class is quarantined as {@code bad-label}.
 */
public final class CifarBatches {
    public static final int SIDE = 32;
    public static final int PIXELS = 3 * SIDE * SIDE;
    public static final int RECORD = 1 + PIXELS;
    public static final List<String> CLASSES = List.of("airplane", "automobile", "bird", "cat", "deer", "dog", "frog",
            "horse", "ship", "truck");
    static final String META = "batches.meta.txt";

    private CifarBatches() {
    }

    static List<DecodedImage> records(String uri, byte[] data, List<String> classes, ImageDecoder decoder) {
        String file = new Path(uri).getName();
        String split = file.startsWith("test") ? "test" : null;
        List<DecodedImage> out = new ArrayList<>(data.length / RECORD + 1);
        if (data.length == 0) {
            out.add(new DecodedImage(uri, file, null, split, null, 0, QuarantineReason.EMPTY_FILE.code(), "zero-byte CIFAR batch"));
        }
        for (int i = 0; i * (long) RECORD < data.length; i++) {
            int at = i * RECORD;
            String key = String.format("%s#%05d", file, i);
            String path = uri + "#" + i;
            if (at + RECORD > data.length) {
                out.add(new DecodedImage(path, key, null, split, null, data.length - at, QuarantineReason.TRUNCATED_RECORD.code(),
                        "record " + i + " has " + (data.length - at) + " of " + RECORD + " bytes"));
                break;
            }
            int label = data[at] & 0xff;
            if (label >= classes.size()) {
                out.add(new DecodedImage(path, key, null, split, null, RECORD, QuarantineReason.BAD_LABEL.code(),
                        "label " + label + " is outside 0.." + (classes.size() - 1)));
                continue;
            }
            byte[] chw = Arrays.copyOfRange(data, at + 1, at + RECORD);
            out.add(new DecodedImage(path, key, classes.get(label), split, decoder.fromChw(chw, 3, SIDE, SIDE), RECORD, null, null));
        }
        return out;
    }
}
