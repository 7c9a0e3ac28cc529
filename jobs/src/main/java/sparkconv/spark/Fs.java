package sparkconv.spark;

import java.io.ByteArrayOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Paths;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import sparkconv.SparkconvException;

/**
 * Hadoop FileSystem access for any URI users pass ({@code hdfs://}, {@code file://}, or a plain local path).
 * Plain paths become absolute {@code file:} URIs so that executors on other JVMs resolve them the same way.
 */
public final class Fs {
    private Fs() {
    }

    /** A plain path becomes an absolute file: URI; anything with a scheme is kept. */
    public static String uri(String location) {
        if (location == null || location.isBlank()) {
            throw new SparkconvException("empty path");
        }
        URI u = URI.create(location.replace(" ", "%20"));
        if (u.getScheme() != null && u.getScheme().length() > 1) {
            return location;
        }
        return Paths.get(location).toAbsolutePath().normalize().toUri().toString().replaceAll("/$", "");
    }

    public static Path path(String location) {
        return new Path(uri(location));
    }

    public static Path child(String location, String... parts) {
        Path p = path(location);
        for (String part : parts) {
            p = new Path(p, part);
        }
        return p;
    }

    public static FileSystem fs(Path p, Configuration conf) {
        try {
            return p.getFileSystem(conf);
        } catch (IOException e) {
            throw new SparkconvException(p + ": cannot open file system: " + e.getMessage(), e);
        }
    }

    public static boolean exists(Path p, Configuration conf) {
        try {
            return fs(p, conf).exists(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Whether anything matches {@code location}: the path itself, or at least one match of a glob ({@code *.zip}). */
    public static boolean matches(String location, Configuration conf) {
        Path p = path(location);
        try {
            FileStatus[] found = fs(p, conf).globStatus(p);
            return found != null && found.length > 0;
        } catch (IOException e) {
            throw new SparkconvException(location + ": cannot read: " + e.getMessage(), e);
        }
    }

    public static byte[] readBytes(Path p, Configuration conf) {
        try (InputStream in = fs(p, conf).open(p)) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            in.transferTo(out);
            return out.toByteArray();
        } catch (java.io.FileNotFoundException e) {
            throw new SparkconvException(p + ": file not found");
        } catch (IOException e) {
            throw new SparkconvException(p + ": cannot read: " + e.getMessage(), e);
        }
    }

    public static String readString(Path p, Configuration conf) {
        return new String(readBytes(p, conf), StandardCharsets.UTF_8);
    }

    /**
     * A new file's stream. HDFS's stream throws a failed write's exception again from {@code close()}, which in
     * try-with-resources is self-suppression: an IllegalArgumentException instead of the failure (a DataNode lost
     * during a model write showed it). This stream's {@code close()} does not throw again what a write already threw.
     */
    public static OutputStream create(Path p, boolean overwrite, Configuration conf) throws IOException {
        OutputStream hadoop = fs(p, conf).create(p, overwrite);
        return new FilterOutputStream(hadoop) {
            private IOException failed; // what a write or flush threw: HDFS's close() throws the same again

            @Override
            public void write(int b) throws IOException {
                remembering(() -> out.write(b));
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                remembering(() -> out.write(b, off, len));
            }

            @Override
            public void flush() throws IOException {
                remembering(out::flush);
            }

            @Override
            public void close() throws IOException {
                try {
                    out.close();
                } catch (IOException e) {
                    if (e != failed) {
                        throw e;
                    }
                }
            }

            private void remembering(StreamCall call) throws IOException {
                try {
                    call.run();
                } catch (IOException e) {
                    failed = e;
                    throw e;
                }
            }
        };
    }

    private interface StreamCall {
        void run() throws IOException;
    }

    public static void writeBytes(Path p, byte[] data, Configuration conf) {
        try (OutputStream out = create(p, true, conf)) {
            out.write(data);
        } catch (IOException e) {
            throw new SparkconvException(p + ": cannot write: " + e.getMessage(), e);
        }
    }

    public static void writeString(Path p, String text, Configuration conf) {
        writeBytes(p, text.getBytes(StandardCharsets.UTF_8), conf);
    }

    public static void delete(Path p, Configuration conf) {
        try {
            fs(p, conf).delete(p, true);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
