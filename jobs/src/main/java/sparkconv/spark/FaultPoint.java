package sparkconv.spark;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A pause point for fault tests, off unless the executor's environment sets {@code SPARKCONV_FAULT_PAUSE_DIR}: then
 * the first JVM to reach it {@code SPARKCONV_FAULT_PAUSE_AT} times (default 3) creates {@code <dir>/paused} holding
 * its pid and waits there until {@code <dir>/release} exists. A test can so kill an executor, or the whole
 * application, while a task is running by construction, instead of timing the kill from outside. Called where
 * executors work: when the training loader reads a minibatch (inside an averaging round), before preprocess writes a
 * shard, when score starts a partition; and in a promoter holding the store's lock. Only one JVM ever pauses (the marker is created exclusively), so the re-run
 * of a lost task goes through.
 */
public final class FaultPoint {
    private static final String DIR = System.getenv("SPARKCONV_FAULT_PAUSE_DIR");
    private static final int AT = DIR == null ? 0 : Integer.parseInt(System.getenv().getOrDefault("SPARKCONV_FAULT_PAUSE_AT", "3"));
    private static final AtomicInteger REACHED = new AtomicInteger();

    private FaultPoint() {
    }

    public static void reached() {
        if (DIR == null || REACHED.incrementAndGet() != AT) {
            return;
        }
        Path dir = Path.of(DIR);
        try {
            Files.writeString(Files.createFile(dir.resolve("paused")), String.valueOf(ProcessHandle.current().pid()),
                    StandardCharsets.UTF_8);
        } catch (FileAlreadyExistsException e) {
            return; // another JVM paused already (this one may be re-running its task)
        } catch (IOException e) {
            throw new IllegalStateException(dir + ": fault point cannot write its marker: " + e.getMessage(), e);
        }
        while (!Files.exists(dir.resolve("release"))) {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
