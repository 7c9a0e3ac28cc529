package sparkconv;

/**
 * A failure the user can act on. Its message is the one line the CLI prints: it names the file, row or
 * option and the problem, and never needs a stack trace to be understood.
 */
public class SparkconvException extends RuntimeException {
    public SparkconvException(String message) {
        super(message);
    }

    public SparkconvException(String message, Throwable cause) {
        super(message, cause);
    }
}
