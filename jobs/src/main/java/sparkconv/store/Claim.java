package sparkconv.store;

import java.io.File;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.ipc.RemoteException;

import sparkconv.SparkconvException;
import sparkconv.spark.Fs;

/**
 * A file that only one process can create: a lock ({@code best.json}'s compare-then-rename) or the claim of a model
 * version a run is training. Created exclusively on the store's own file system (HDFS: the NameNode refuses a second
 * create; local: {@code O_CREAT|O_EXCL}), so two writers can never both hold it. A holder that is killed leaves the
 * file behind: it is stale once its modification time is older than {@code staleAfter} (long-running holders keep it
 * fresh with {@link #keepFresh}), and a stale file is broken by renaming it aside, which only one contender can do.
 */
final class Claim implements AutoCloseable {
    private final Path file;
    private final String token;
    private final Configuration conf;
    private ScheduledExecutorService heartbeat;

    private Claim(Path file, String token, Configuration conf) {
        this.file = file;
        this.token = token;
        this.conf = conf;
    }

    Path file() {
        return file;
    }

    /** Creates {@code file} holding a fresh token and who holds it, or returns empty if it already exists. */
    static Optional<Claim> tryCreate(Path file, String purpose, Configuration conf) {
        String token = UUID.randomUUID().toString();
        byte[] content = (token + "\n" + purpose + " by " + ManagementFactory.getRuntimeMXBean().getName() + " at "
                + Instant.now() + "\n").getBytes(StandardCharsets.UTF_8);
        FileSystem fs = Fs.fs(file, conf);
        try {
            fs.mkdirs(file.getParent());
            if (fs instanceof LocalFileSystem || fs instanceof RawLocalFileSystem) {
                // Hadoop's local create(overwrite=false) checks and then creates; java.nio's createFile is O_EXCL
                File local = new File(file.toUri().getPath());
                Files.write(Files.createFile(local.toPath()), content);
            } else {
                try (OutputStream out = fs.create(file, false)) {
                    out.write(content);
                }
            }
            return Optional.of(new Claim(file, token, conf));
        } catch (FileAlreadyExistsException | java.nio.file.FileAlreadyExistsException e) {
            return Optional.empty();
        } catch (IOException e) {
            // HDFS: another client of this JVM (same lease holder) is creating it right now
            String kind = e instanceof RemoteException remote ? remote.getClassName() : e.getClass().getName();
            if (kind.endsWith("AlreadyBeingCreatedException") || kind.endsWith("FileAlreadyExistsException")) {
                return Optional.empty();
            }
            throw new SparkconvException(file + ": cannot create: " + e.getMessage(), e);
        }
    }

    /**
     * Waits for {@code file} (polling) and holds it, breaking it if it is stale; fails with one line naming the file
     * after {@code timeout}.
     */
    static Claim acquire(Path file, String purpose, Duration staleAfter, Duration timeout, Configuration conf) {
        long deadline = System.nanoTime() + timeout.toNanos();
        long sleepMs = 20;
        while (true) {
            Optional<Claim> claim = tryCreate(file, purpose, conf);
            if (claim.isPresent()) {
                return claim.get();
            }
            if (!breakIfStale(file, staleAfter, conf)) {
                if (System.nanoTime() > deadline) {
                    throw new SparkconvException(file + ": still held by " + holder(file, conf) + " after "
                            + timeout.toSeconds() + " s (delete it if that process is gone)");
                }
                try {
                    Thread.sleep(sleepMs + (long) (Math.random() * sleepMs));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new SparkconvException(file + ": interrupted while waiting for it");
                }
                sleepMs = Math.min(500, sleepMs * 2);
            }
        }
    }

    /** The file's age if it exists. */
    static Optional<Duration> age(Path file, Configuration conf) {
        try {
            FileStatus s = Fs.fs(file, conf).getFileStatus(file);
            return Optional.of(Duration.ofMillis(Math.max(0, System.currentTimeMillis() - s.getModificationTime())));
        } catch (FileNotFoundException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new SparkconvException(file + ": cannot read its status: " + e.getMessage(), e);
        }
    }

    /**
     * Removes {@code file} if it is older than {@code staleAfter}; true if it is gone (broken here or meanwhile).
     * It is renamed aside (one contender wins); if what was moved turns out fresh (another contender broke the stale
     * file and created its own in between), it is moved back.
     */
    static boolean breakIfStale(Path file, Duration staleAfter, Configuration conf) {
        Optional<Duration> age = age(file, conf);
        if (age.isEmpty()) {
            return true;
        }
        if (age.get().compareTo(staleAfter) < 0) {
            return false;
        }
        FileSystem fs = Fs.fs(file, conf);
        Path aside = new Path(file.getParent(), file.getName() + ".stale-" + UUID.randomUUID());
        try {
            if (!fs.rename(file, aside)) {
                return !fs.exists(file);
            }
            Optional<Duration> movedAge = age(aside, conf);
            if (movedAge.isPresent() && movedAge.get().compareTo(staleAfter) < 0 && !fs.exists(file)) {
                fs.rename(aside, file);
                return false;
            }
            fs.delete(aside, false);
            return true;
        } catch (IOException e) {
            throw new SparkconvException(file + ": cannot break the stale claim: " + e.getMessage(), e);
        }
    }

    /** Who holds {@code file}, from its content. */
    static String holder(Path file, Configuration conf) {
        try {
            String[] lines = Fs.readString(file, conf).split("\n");
            return lines.length > 1 ? lines[1] : "an unknown holder";
        } catch (SparkconvException e) {
            return "nobody any more";
        }
    }

    /** Touches the file every {@code every} until closed, so that it never looks stale while its holder runs. */
    void keepFresh(Duration every) {
        heartbeat = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "claim-heartbeat " + file.getName());
            t.setDaemon(true);
            return t;
        });
        heartbeat.scheduleAtFixedRate(() -> {
            try {
                Fs.fs(file, conf).setTimes(file, System.currentTimeMillis(), -1);
            } catch (IOException | RuntimeException e) {
                // the next beat retries; a claim that goes stale is reported by whoever breaks it
            }
        }, every.toMillis(), every.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Deletes the file if it still holds this claim's token (a claim broken as stale belongs to someone else now). */
    @Override
    public void close() {
        if (heartbeat != null) {
            heartbeat.shutdownNow();
        }
        try {
            String content = Fs.readString(file, conf);
            if (content.startsWith(token)) {
                Fs.fs(file, conf).delete(file, false);
            }
        } catch (SparkconvException e) {
            // already gone
        } catch (IOException e) {
            throw new SparkconvException(file + ": cannot release: " + e.getMessage(), e);
        }
    }
}
