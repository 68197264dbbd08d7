package dev.metering.api.csv;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The one CSV format of every export ({@code text/csv}: usage reports, the price book) and of the
 * price book's import. Cells are quoted per RFC 4180 when they hold a comma, a quote, CR or LF;
 * lines end with LF. A cell a spreadsheet would run as a formula (first character {@code =},
 * {@code +}, {@code -}, {@code @}, TAB or CR) is written with a leading {@code '}; plain numbers
 * ({@code -12.5}) are left as they are, they are not formulas. {@link #parse} undoes the guard, so
 * an export read back gives the same cells.
 */
public final class Csv {

    private static final String TRIGGERS = "=+-@\t\r";
    private static final Pattern PLAIN_NUMBER = Pattern.compile("-?[0-9]+(\\.[0-9]+)?");

    private Csv() {
    }

    /** One cell as written: formula-guarded, then quoted when needed; null is an empty cell. */
    public static String cell(String v) {
        if (v == null) {
            return "";
        }
        String s = guarded(v) ? "'" + v : v;
        // a leading # is quoted too: an unquoted one starts a comment line in the price book
        if (s.startsWith("#") || s.indexOf(',') >= 0 || s.indexOf('"') >= 0 || s.indexOf('\n') >= 0 || s.indexOf('\r') >= 0) {
            return '"' + s.replace("\"", "\"\"") + '"';
        }
        return s;
    }

    /** One line: the cells joined by commas, ended by LF. */
    public static String line(List<String> cells) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < cells.size(); i++) {
            sb.append(i == 0 ? "" : ",").append(cell(cells.get(i)));
        }
        return sb.append('\n').toString();
    }

    /**
     * Whether a spreadsheet would read {@code v} as a formula, or {@code v} is itself a guarded
     * value (leading apostrophes before a formula): those get one more apostrophe, so reading
     * back strips exactly the one added.
     */
    static boolean guarded(String v) {
        int k = 0;
        while (k < v.length() && v.charAt(k) == '\'') {
            k++;
        }
        return k < v.length() && TRIGGERS.indexOf(v.charAt(k)) >= 0 && !PLAIN_NUMBER.matcher(v.substring(k)).matches();
    }

    /** One record of a CSV text, the line it starts on (1-based), and whether that line starts with an unquoted #. */
    public record Record(int line, List<String> cells, boolean comment) {
    }

    /** A quote opened and never closed. */
    public static final class MalformedException extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final int line;

        MalformedException(int line) {
            super("line " + line + ": a quoted cell is not closed");
            this.line = line;
        }

        public int line() {
            return line;
        }
    }

    /**
     * The records of {@code text} per RFC 4180 (quoted cells may hold commas, quotes and line
     * breaks; CRLF or LF between records), each cell with the formula guard of {@link #cell} undone.
     */
    public static List<Record> parse(String text) {
        List<Record> out = new ArrayList<>();
        List<String> cells = new ArrayList<>();
        StringBuilder cell = new StringBuilder();
        boolean quoted = false;
        boolean wasQuoted = false;
        int line = 1;
        int recordLine = 1;
        boolean comment = text.startsWith("#");
        int n = text.length();
        for (int i = 0; i < n; i++) {
            char c = text.charAt(i);
            if (quoted) {
                if (c == '"') {
                    if (i + 1 < n && text.charAt(i + 1) == '"') {
                        cell.append('"');
                        i++;
                    } else {
                        quoted = false;
                    }
                } else {
                    if (c == '\n') {
                        line++;
                    }
                    cell.append(c);
                }
            } else if (c == '"' && cell.isEmpty() && !wasQuoted) {
                quoted = true;
                wasQuoted = true;
            } else if (c == ',') {
                cells.add(unguard(cell.toString()));
                cell.setLength(0);
                wasQuoted = false;
            } else if (c == '\n' || c == '\r') {
                if (c == '\r' && i + 1 < n && text.charAt(i + 1) == '\n') {
                    i++;
                }
                cells.add(unguard(cell.toString()));
                out.add(new Record(recordLine, List.copyOf(cells), comment));
                cells.clear();
                cell.setLength(0);
                wasQuoted = false;
                line++;
                recordLine = line;
                comment = i + 1 < n && text.charAt(i + 1) == '#';
            } else {
                cell.append(c);
            }
        }
        if (quoted) {
            throw new MalformedException(recordLine);
        }
        if (!cell.isEmpty() || !cells.isEmpty() || wasQuoted) {
            cells.add(unguard(cell.toString()));
            out.add(new Record(recordLine, List.copyOf(cells), comment));
        }
        return out;
    }

    private static String unguard(String v) {
        return v.length() > 1 && v.charAt(0) == '\'' && guarded(v.substring(1)) ? v.substring(1) : v;
    }
}
