package sparkconv.store;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;

import sparkconv.SparkconvException;
import sparkconv.data.Checksums;
import sparkconv.spark.Fs;
import sparkconv.spark.StagedCommit;

/**
 * The sha256 of each file of a published directory (a model version, a training checkpoint), recorded under
 * {@link #KEY} in the JSON file that describes the directory ({@code metadata.json}, {@code checkpoint.json}) when it
 * is committed, and checked before any of the files is used. A file is checked on the very bytes that are then used
 * (hashed while they are read or copied), so it cannot change between the check and the load. Neither the JSON file
 * itself nor files added after publishing (a version's {@code report.html}) are covered: whoever can rewrite the
 * JSON can rewrite its checksums too (docs/security.md).
 *
 * @param dir    the directory
 * @param record the JSON file in it that records the checksums
 * @param what   what the directory is, for messages ({@code fashion-mnist-lenet5 v3}, {@code checkpoint epoch 2 of ...})
 * @param sha256 file (relative to {@code dir}) to its sha256; null for a directory written before they were recorded,
 *               whose files are used unchecked after a one-line warning
 */
public record FileDigests(Path dir, String record, String what, Map<String, String> sha256) {
    /** The key of the checksums in the record. */
    public static final String KEY = "sha256";
    /** Directories already warned about in this JVM: a scoring executor loads a model once per task thread. */
    private static final Set<String> WARNED = ConcurrentHashMap.newKeySet();

    /** A file read from local disk (DL4J restores a model zip from a file). */
    @FunctionalInterface
    public interface LocalReader<T> {
        T read(File file) throws IOException;
    }

    /** The checksums {@code json} (the parsed record) holds under {@link #KEY}, if any. */
    public static FileDigests of(Path dir, String record, String what, Map<?, ?> json) {
        Object recorded = json.get(KEY);
        if (recorded != null && !(recorded instanceof Map<?, ?>)) {
            throw new SparkconvException(new Path(dir, record) + ": '" + KEY + "' is not a map of file to checksum");
        }
        Map<String, String> sha = null;
        if (recorded instanceof Map<?, ?> m) {
            sha = new TreeMap<>();
            for (Map.Entry<?, ?> e : m.entrySet()) {
                sha.put(String.valueOf(e.getKey()), String.valueOf(e.getValue()));
            }
        }
        return new FileDigests(dir, record, what, sha);
    }

    /**
     * The sha256 of every file under {@code dir} but {@code record} and the {@code _SUCCESS} marker, by path relative to
     * {@code dir}: what a writer records, inside its staged commit, once the files are written.
     */
    public static Map<String, String> compute(Path dir, String record, Configuration conf) {
        FileSystem fs = Fs.fs(dir, conf);
        Map<String, String> out = new TreeMap<>();
        try {
            String base = fs.makeQualified(dir).toUri().getPath() + "/";
            RemoteIterator<LocatedFileStatus> files = fs.listFiles(dir, true);
            while (files.hasNext()) {
                Path p = files.next().getPath();
                String name = p.toUri().getPath().substring(base.length());
                if (!name.equals(record) && !name.equals(StagedCommit.SUCCESS)) {
                    try (InputStream in = fs.open(p)) {
                        out.put(name, Checksums.sha256(in, null));
                    }
                }
            }
        } catch (IOException e) {
            throw new SparkconvException(dir + ": cannot checksum its files: " + e.getMessage(), e);
        }
        return out;
    }

    /** A small file's bytes (a version's metrics.json), checked (unchecked, silently, in a directory without checksums). */
    public byte[] read(String file, Configuration conf) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        copyChecked(file, bytes, conf);
        return bytes.toByteArray();
    }

    /**
     * A file copied to a private local temporary file while it is hashed, and read from there only if its checksum is
     * the recorded one: how model zips are loaded (DL4J copies a stream to a temporary file anyway).
     */
    public <T> T load(String file, Configuration conf, LocalReader<T> reader) {
        Path p = new Path(dir, file);
        File local = null;
        try {
            if (sha256 == null) {
                warnUnchecked();
            }
            local = Files.createTempFile("sparkconv-", "-" + new Path(file).getName()).toFile();
            try (OutputStream out = Files.newOutputStream(local.toPath())) {
                copyChecked(file, out, conf);
            }
            return reader.read(local);
        } catch (IOException e) {
            throw new SparkconvException(p + ": cannot load " + what + ": " + e.getMessage(), e);
        } finally {
            if (local != null && !local.delete()) {
                local.deleteOnExit();
            }
        }
    }

    /** Checks every recorded file (what {@code models promote} does before it points {@code best} at a version). */
    public void verifyAll(Configuration conf) {
        if (sha256 == null) {
            warnUnchecked();
            return;
        }
        for (String file : sha256.keySet()) {
            copyChecked(file, OutputStream.nullOutputStream(), conf);
        }
    }

    private void copyChecked(String file, OutputStream out, Configuration conf) {
        Path p = new Path(dir, file);
        if (sha256 != null && !sha256.containsKey(file)) {
            throw new SparkconvException(p + ": not among the files " + record + " records for " + what + "; refusing to use it");
        }
        String actual;
        try (InputStream in = Fs.fs(p, conf).open(p)) {
            actual = Checksums.sha256(in, out);
        } catch (FileNotFoundException e) {
            throw new SparkconvException(p + ": missing" + (sha256 == null ? "" : ", but " + record + " records it for " + what));
        } catch (IOException e) {
            throw new SparkconvException(p + ": cannot read " + what + ": " + e.getMessage(), e);
        }
        if (sha256 != null && !sha256.get(file).equals(actual)) {
            throw new SparkconvException(p + ": sha256 " + actual + " is not the " + sha256.get(file) + " " + record + " records for "
                    + what + " (the file changed after it was written); refusing to use it");
        }
    }

    /** Directories written before checksums were recorded still load (backward compatibility), once warned about. */
    private void warnUnchecked() {
        if (WARNED.add(dir.toString())) {
            System.err.println("sparkconv: warning: " + dir + ": " + record + " of " + what + " records no checksums (written before "
                    + "sparkconv recorded them): its files are used unchecked");
        }
    }
}
