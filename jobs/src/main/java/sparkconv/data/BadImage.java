package sparkconv.data;

/**
 * Why one input cannot be used: a quarantine {@link #reason() reason} code plus a human detail. Thrown by decoders and
 * archive readers and turned into a quarantine row; it never fails a job.
 */
public final class BadImage extends RuntimeException {
    private final QuarantineReason reason;

    public BadImage(QuarantineReason reason, String detail) {
        super(detail, null, false, false);
        this.reason = reason;
    }

    public QuarantineReason reason() {
        return reason;
    }
}
