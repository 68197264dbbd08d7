package dev.metering.api.csv;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class CsvTest {

    private static final List<String> HOSTILE = List.of("plain", "a,b", "say \"hi\"", "=HYPERLINK(\"x\")", "+1+2",
            "-2+3", "@SUM(A1)", "\tlead tab", "\rlead cr", "two\nlines", "crlf\r\nx", ",\nforged,row,0,0,0,2025-01-01",
            "'=already guarded", "''=twice", "'plain apostrophe", "-12.5", "-0", "42", "", "#not a comment", "é 🚀");

    @Test
    void shouldQuoteCellsPerRfc4180() {
        assertThat(Csv.cell("plain")).isEqualTo("plain");
        assertThat(Csv.cell("a,b")).isEqualTo("\"a,b\"");
        assertThat(Csv.cell("say \"hi\"")).isEqualTo("\"say \"\"hi\"\"\"");
        assertThat(Csv.cell("two\nlines")).isEqualTo("\"two\nlines\"");
        assertThat(Csv.cell("cr\rx")).isEqualTo("\"cr\rx\"");
        assertThat(Csv.cell("")).isEmpty();
        assertThat(Csv.cell(null)).isEmpty();
    }

    @Test
    void shouldNeutraliseEveryFormulaLeadButKeepPlainNegativeNumbers() {
        assertThat(Csv.cell("=1+2")).isEqualTo("'=1+2");
        assertThat(Csv.cell("+1")).isEqualTo("'+1");
        assertThat(Csv.cell("-2+3")).isEqualTo("'-2+3");
        assertThat(Csv.cell("@SUM(A1)")).isEqualTo("'@SUM(A1)");
        assertThat(Csv.cell("\tx")).isEqualTo("'\tx");
        assertThat(Csv.cell("\rx")).isEqualTo("\"'\rx\"");
        assertThat(Csv.cell("'=x")).isEqualTo("''=x");
        assertThat(Csv.cell("-12.5")).isEqualTo("-12.5");
        assertThat(Csv.cell("'plain")).isEqualTo("'plain");
    }

    @Test
    void shouldReadBackExactlyTheCellsItWrote() {
        StringBuilder text = new StringBuilder();
        for (String cell : HOSTILE) {
            text.append(Csv.line(List.of(cell, "after")));
        }
        List<Csv.Record> records = Csv.parse(text.toString());
        assertThat(records).hasSize(HOSTILE.size());
        for (int i = 0; i < HOSTILE.size(); i++) {
            assertThat(records.get(i).cells()).as(HOSTILE.get(i)).containsExactly(HOSTILE.get(i), "after");
            assertThat(records.get(i).comment()).isFalse();
        }
    }

    @Test
    void shouldNumberRecordsByTheLineTheyStartOnAndRefuseAnOpenQuote() {
        List<Csv.Record> records = Csv.parse("# note\r\na,\"b\nc\"\nd,e");
        assertThat(records).extracting(Csv.Record::line).containsExactly(1, 2, 4);
        assertThat(records.get(0).comment()).isTrue();
        assertThat(records.get(1).cells()).containsExactly("a", "b\nc");
        assertThat(records.get(2).cells()).containsExactly("d", "e");
        assertThatThrownBy(() -> Csv.parse("a\n\"open,b\nc")).isInstanceOf(Csv.MalformedException.class)
                .hasMessage("line 2: a quoted cell is not closed");
    }
}
