package sparkconv.jobs;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The command lines the documentation prints: README.md, docs/*.md (fenced ``` blocks and 4-space indented blocks)
 * and the usage comments at the top of pipelines/*.yaml. A command line starts with {@code ./sparkconv},
 * {@code deploy/}, {@code bench/run}, {@code ./test}, {@code ./setup}, {@code sudo} or {@code apt-get}; a trailing {@code \} joins the
 * next line, a {@code  # ...} comment is dropped, and {@code a && b} are two commands.
 */
final class DocCommands {
    /** The repository root (surefire runs in jobs/). */
    static final Path ROOT = Path.of("").toAbsolutePath().getParent();

    private static final List<String> STARTS = List.of("./sparkconv ", "deploy/", "bench/run", "./test", "./setup", "sudo ", "apt-get ");

    private DocCommands() {
    }

    /** One documented command: where it is printed and its words. */
    record Line(Path doc, int line, String text) {
        List<String> words() {
            return List.of(text.trim().split("\\s+"));
        }

        String where() {
            return ROOT.relativize(doc) + ":" + line;
        }
    }

    static List<Path> documents() {
        List<Path> docs = new ArrayList<>();
        docs.add(ROOT.resolve("README.md"));
        docs.addAll(sorted(ROOT.resolve("docs"), ".md"));
        docs.addAll(sorted(ROOT.resolve("pipelines"), ".yaml"));
        return docs;
    }

    private static List<Path> sorted(Path dir, String suffix) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(suffix)).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The command lines of one document, in order. */
    static List<Line> commands(Path doc) {
        List<String> lines;
        try {
            lines = Files.readAllLines(doc);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        boolean yaml = doc.toString().endsWith(".yaml");
        List<Line> out = new ArrayList<>();
        boolean fenced = false;
        for (int i = 0; i < lines.size(); i++) {
            String raw = lines.get(i);
            String text;
            if (yaml) {
                if (!raw.startsWith("#")) {
                    break; // usage lines are in the header comment only
                }
                text = raw.substring(1).trim();
            } else if (raw.trim().startsWith("```")) {
                fenced = !fenced;
                continue;
            } else if (fenced || raw.startsWith("    ")) {
                text = raw.trim();
            } else {
                continue;
            }
            if (STARTS.stream().noneMatch(text::startsWith)) {
                continue;
            }
            int first = i;
            while (text.endsWith("\\") && i + 1 < lines.size()) {
                String next = lines.get(++i);
                text = text.substring(0, text.length() - 1) + " " + (yaml ? next.substring(1) : next).trim();
            }
            text = text.replaceFirst("\\s+#\\s.*$", "");
            for (String part : text.split("\\s+&&\\s+")) {
                out.add(new Line(doc, first + 1, part.trim()));
            }
        }
        return out;
    }
}
