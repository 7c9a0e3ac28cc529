package sparkconv.data;

import java.io.Serializable;

/**
 * One input image before decoding: a file of a folder or an entry of an archive.
 *
 * @param path    where it came from, for people: a file URI, or {@code <archive URI>!/<entry name>}
 * @param key     its path relative to the source root (the entry name in an archive): sorts and splits it
 *                deterministically wherever the source is moved
 * @param label   the class: the name of the directory holding it; null for a file at the top level
 * @param split   the split its path names ({@code train/}, {@code validation/}, {@code test/} as first directory), or null
 * @param content the encoded bytes; null when the entry was already quarantined
 * @param reason  why it is quarantined (a {@link QuarantineReason#code()}), or null when usable
 */
public record ImageEntry(String path, String key, String label, String split, byte[] content, long bytes, String reason,
                         String detail) implements Serializable {
    private static final java.util.Set<String> SPLITS = java.util.Set.of("train", "validation", "test");

    public static ImageEntry of(String path, String key, byte[] content) {
        return new ImageEntry(path, key, label(key), split(key), content, content.length, null, null);
    }

    public static ImageEntry bad(String path, String key, long bytes, BadImage why) {
        return new ImageEntry(path, key, label(key), split(key), null, bytes, why.reason().code(), why.getMessage());
    }

    public boolean ok() {
        return reason == null;
    }

    /** The class of an image: the name of the directory holding it, or null for a top-level file. */
    public static String label(String key) {
        String[] parts = key.split("/");
        return parts.length >= 2 ? parts[parts.length - 2] : null;
    }

    private static String split(String key) {
        String[] parts = key.split("/");
        return parts.length >= 3 && SPLITS.contains(parts[0]) ? parts[0] : null;
    }
}
