package dev.metering.api.bulk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.api.ApiException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ImportRowsTest {

    @Test
    void shouldReadQuotedCellsOverridesAndSkipBlankLinesKeepingLineNumbers() {
        List<ImportRows.Row> rows = ImportRows.csv("\uFEFForgId, planId,seats,override.daily\r\n"
                + "\"acme, inc\",pro,2,1500\r\n"
                + "\n"
                + "\"say \"\"hi\"\"\",free,,\n", ImportRows.SUBSCRIPTIONS);

        assertThat(rows).hasSize(2);
        assertThat(rows.get(0).line()).isEqualTo(2);
        assertThat(rows.get(0).values()).isEqualTo(Map.of("orgId", "acme, inc", "planId", "pro", "seats", "2"));
        assertThat(rows.get(0).overrides()).isEqualTo(Map.of("daily", "1500"));
        assertThat(rows.get(1).line()).isEqualTo(4);
        assertThat(rows.get(1).values()).isEqualTo(Map.of("orgId", "say \"hi\"", "planId", "free"));
        assertThat(rows.get(1).overrides()).isEmpty();
    }

    @Test
    void shouldMarkARowWithTheWrongCellCountOrAnOpenQuoteInvalid() {
        List<ImportRows.Row> rows = ImportRows.csv("orgId,planId\na,free,extra\n\"b,free\n", ImportRows.SUBSCRIPTIONS);

        assertThat(rows).extracting(ImportRows.Row::line, ImportRows.Row::problemField)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(2, "row"), org.assertj.core.groups.Tuple.tuple(3, "row"));
    }

    @Test
    void shouldRefuseAHeaderWithAnUnknownRepeatedOrMissingColumnNamingIt() {
        assertThat(field("orgId,planId,seat\n")).isEqualTo("seat");
        assertThat(field("orgId,planId,orgId\n")).isEqualTo("orgId");
        assertThat(field("orgId,override.\n")).isEqualTo("override.");
        assertThat(field("orgId,seats\n")).isEqualTo("planId");
        assertThat(field("\n\n")).isEqualTo("body");
    }

    @Test
    void shouldReadJsonLinesWithOverridesAndFlagUnknownFields() {
        List<ImportRows.Row> rows = ImportRows.jsonLines("{\"orgId\":\"a\",\"planId\":\"pro\",\"seats\":3,"
                + "\"overrides\":{\"daily\":1500,\"budget\":\"12.50\"}}\n{\"orgId\":\"b\",\"plan\":\"pro\"}\n[1]\n",
                ImportRows.SUBSCRIPTIONS, new ObjectMapper());

        assertThat(rows.get(0).values()).isEqualTo(Map.of("orgId", "a", "planId", "pro", "seats", "3"));
        assertThat(rows.get(0).overrides()).isEqualTo(Map.of("daily", "1500", "budget", "12.50"));
        assertThat(rows.get(1).problemField()).isEqualTo("plan");
        assertThat(rows.get(2).problemField()).isEqualTo("row");
        assertThat(rows.get(2).line()).isEqualTo(3);
    }

    private static String field(String csv) {
        ApiException e = catchThrowableOfType(() -> ImportRows.csv(csv, ImportRows.SUBSCRIPTIONS), ApiException.class);
        assertThat(e.status()).isEqualTo(400);
        return e.field();
    }
}
