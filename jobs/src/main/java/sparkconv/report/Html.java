package sparkconv.report;

/** HTML text helpers. */
final class Html {
    private Html() {
    }

    static String esc(Object o) {
        String s = String.valueOf(o);
        StringBuilder sb = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            switch (c) {
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '&' -> sb.append("&amp;");
                case '"' -> sb.append("&quot;");
                case '\'' -> sb.append("&#39;");
                default -> sb.append(c);
            }
        }
        return sb.toString();
    }

    /** White to blue for 0..1 (heat-map cells). */
    static String heat(double fraction) {
        double f = Math.max(0, Math.min(1, fraction));
        int r = (int) Math.round(255 - f * (255 - 8));
        int g = (int) Math.round(255 - f * (255 - 48));
        int b = (int) Math.round(255 - f * (255 - 107));
        return String.format("#%02x%02x%02x", r, g, b);
    }
}
