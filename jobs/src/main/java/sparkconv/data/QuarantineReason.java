package sparkconv.data;

/** The reasons an input file or archive entry is quarantined; {@link #code()} is what the quarantine Parquet holds. */
public enum QuarantineReason {
    EMPTY_FILE("empty-file"),
    NOT_AN_IMAGE("not-an-image"),
    UNSUPPORTED_FORMAT("unsupported-format"),
    CORRUPT_IMAGE("corrupt-image"),
    CHECKSUM_MISMATCH("checksum-mismatch"),
    DECOMPRESSION_BOMB("decompression-bomb"),
    TOO_LARGE("too-large"),
    UNSAFE_PATH("unsafe-path"),
    SYMLINK("symlink"),
    NO_CLASS_DIRECTORY("no-class-directory"),
    TRUNCATED_RECORD("truncated-record"),
    BAD_LABEL("bad-label"),
    WRONG_SIZE("wrong-size"),
    UNREADABLE("unreadable");

    private final String code;

    QuarantineReason(String code) {
        this.code = code;
    }

    public String code() {
        return code;
    }
}
