package sparkconv.deploy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs the deploy/ scripts of this checkout as a user would, capturing output and exit status. */
final class DeployScripts {
    /** The repository root (surefire and failsafe run in jobs/). */
    static final Path ROOT = Path.of("").toAbsolutePath().getParent();

    private DeployScripts() {
    }

    record Result(int exitCode, String output) {
    }

    /** Runs {@code deploy/<script> args...}, output (stdout + stderr) to {@code log} as well, within the timeout. */
    static Result run(Path log, long timeoutSeconds, String script, String... args) throws IOException, InterruptedException {
        return start(log, script, args).await(timeoutSeconds);
    }

    /**
     * A script running in the background. For {@code deploy/submit} in client mode the process is the driver JVM
     * itself (the script execs {@code java ... SparkSubmit}), so killing it kills the driver.
     */
    record Running(Process process, Path log, String command) {
        Result await(long timeoutSeconds) throws IOException, InterruptedException {
            if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
                throw new AssertionError(command + ": no exit after " + timeoutSeconds + " s; log " + log);
            }
            return new Result(process.exitValue(), output());
        }

        String output() throws IOException {
            return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
        }
    }

    /** Starts {@code deploy/<script> args...} with its output (stdout + stderr) going to {@code log}. */
    static Running start(Path log, String script, String... args) throws IOException {
        return start(log, Map.of(), script, args);
    }

    /** The same, with {@code env} added to this JVM's environment. */
    static Running start(Path log, Map<String, String> env, String script, String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(ROOT.resolve("deploy").resolve(script).toString());
        cmd.addAll(Arrays.asList(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(ROOT.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().putAll(env);
        Process p = pb.start();
        return new Running(p, log, script + " " + String.join(" ", args));
    }

    /**
     * The exact argument list {@code deploy/submit --dry-run args...} prints, as the shell parses it (so the printed
     * command is proven to be valid shell, too). Returns the arguments, or the error output when it exits non-zero.
     */
    static Result dryRun(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("bash", "-c",
                "out=\"$(\"$0\" --dry-run \"$@\")\" || exit $?; eval \"set -- $out\"; printf '%s\\0' \"$@\"",
                ROOT.resolve("deploy/submit").toString()));
        cmd.addAll(Arrays.asList(args));
        Process p = new ProcessBuilder(cmd).directory(ROOT.toFile()).start();
        byte[] out = p.getInputStream().readAllBytes();
        byte[] err = p.getErrorStream().readAllBytes();
        p.waitFor();
        return new Result(p.exitValue(), new String(p.exitValue() == 0 ? out : err, StandardCharsets.UTF_8));
    }
}
