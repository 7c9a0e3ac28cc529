package sparkconv.cli;

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
 * next line, a {@code  # ...} comment is dropped, and {@code a && b} are two commands. A {@code ```text} block right
 * after a command block (blank lines between at most) is what that block's last command prints ({@link Line#prints}).
 */
final class DocCommands {
    /** The repository root (surefire runs in jobs/). */
    static final Path ROOT = Path.of("").toAbsolutePath().getParent();

    private static final List<String> STARTS = List.of("./sparkconv ", "deploy/", "bench/run", "./test", "./setup", "sudo ", "apt-get ");

    private DocCommands() {
    }

    /** One documented command: where it is printed, its words, and the output the document shows for it (or none). */
    record Line(Path doc, int line, String text, List<String> prints) {
        Line(Path doc, int line, String text) {
            this(doc, line, text, List.of());
        }

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
        int commandBlockEnd = -1; // the line that closed the last fenced block holding commands
        int lastFenceOpen = -1; // the (1-based) line of the last opening fence
        for (int i = 0; i < lines.size(); i++) {
            String raw = lines.get(i);
            String text;
            if (yaml) {
                if (!raw.startsWith("#")) {
                    break; // usage lines are in the header comment only
                }
                text = raw.substring(1).trim();
            } else if (raw.trim().startsWith("```")) {
                if (!fenced && raw.trim().equals("```text") && commandBlockEnd >= 0
                        && lines.subList(commandBlockEnd + 1, i).stream().allMatch(String::isBlank)) {
                    int end = i + 1;
                    while (end < lines.size() && !lines.get(end).trim().startsWith("```")) {
                        end++;
                    }
                    Line last = out.remove(out.size() - 1);
                    out.add(new Line(last.doc(), last.line(), last.text(), List.copyOf(lines.subList(i + 1, end))));
                    i = end;
                    commandBlockEnd = -1;
                    continue;
                }
                if (fenced && !out.isEmpty() && out.get(out.size() - 1).line() > lastFenceOpen) {
                    commandBlockEnd = i;
                }
                if (!fenced) {
                    lastFenceOpen = i + 1;
                }
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
