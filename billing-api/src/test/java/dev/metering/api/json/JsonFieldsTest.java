package dev.metering.api.json;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class JsonFieldsTest {

    private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);

    private final List<String> problems = new ArrayList<>();
    private final List<JsonFields.Kind> kinds = new ArrayList<>();

    private JsonFields fields(String json) throws Exception {
        return new JsonFields(JSON.readTree(json), "plans[0].", (path, kind, message) -> {
            problems.add(path + ": " + message);
            kinds.add(kind);
        });
    }

    @Test
    void shouldCollectEveryProblemWithItsPathAndAnswerTheDefaults() throws Exception {
        JsonFields f = fields("{\"id\":\"\",\"name\":\"a\\u0000b\",\"priceUsd\":\"-1\",\"prepaid\":\"yes\",\"x\":1}");

        assertThat(f.text("id", true)).isNull();
        assertThat(f.text("name", false)).isNull();
        assertThat(f.text("code", true)).isNull();
        assertThat(f.decimal("priceUsd", DecimalRule.AMOUNT, BigDecimal.ZERO)).isEqualByComparingTo("0");
        assertThat(f.bool("prepaid", true)).isTrue();
        f.onlyFields(Set.of("id", "name", "priceUsd", "prepaid"), JsonFields.oneOf(Set.of("name", "id")));

        assertThat(problems).containsExactly(
                "plans[0].id: expected a non-empty string",
                "plans[0].name: must not contain the NUL character",
                "plans[0].code: required",
                "plans[0].priceUsd: must not be negative, got -1",
                "plans[0].prepaid: expected true or false, got 'yes'",
                "plans[0].x: unknown field (expected one of [id, name])");
        assertThat(kinds).containsExactly(JsonFields.Kind.TYPE, JsonFields.Kind.RANGE, JsonFields.Kind.REQUIRED,
                JsonFields.Kind.RANGE, JsonFields.Kind.TYPE, JsonFields.Kind.UNKNOWN);
    }

    @Test
    void shouldTreatNullAsAbsentAndNumbersAsTheirTextOnlyWhereScalarsAreAllowed() throws Exception {
        JsonFields f = fields("{\"id\":2024,\"name\":null,\"priceUsd\":null,\"eventId\":7}");

        assertThat(f.scalarText("id", true)).isEqualTo("2024");
        assertThat(f.text("name", true)).isNull();
        assertThat(f.decimal("priceUsd", DecimalRule.AMOUNT, BigDecimal.ONE)).isEqualByComparingTo("1");
        assertThat(f.text("eventId", true)).isNull();
        assertThat(problems).containsExactly("plans[0].name: required", "plans[0].eventId: expected a non-empty string");
    }

    @Test
    void shouldReadWholeNumbersOnlyWhenTheyFitALong() throws Exception {
        JsonFields f = fields("{\"a\":9223372036854775807,\"b\":9223372036854775808,\"c\":1.5,\"d\":\"3\"}");

        assertThat(f.wholeNumber("a", 0L)).isEqualTo(Long.MAX_VALUE);
        assertThat(f.wholeNumber("b", 0L)).isZero();
        assertThat(f.wholeNumber("c", null)).isNull();
        assertThat(f.wholeNumber("d", 7L)).isEqualTo(7L);
        assertThat(f.wholeNumber("e", 1L)).isEqualTo(1L);
        assertThat(problems).containsExactly(
                "plans[0].b: is out of range (beyond a 64-bit whole number), got 9223372036854775808",
                "plans[0].c: must be a whole number, got 1.5",
                "plans[0].d: must be a whole number, got \"3\"");
        assertThat(kinds).containsOnly(JsonFields.Kind.TYPE);
    }

    @Test
    void shouldReadInstantsAsEpochMillisOrIsoWithinYearsOneToNineThousandNineHundredNinetyNine() throws Exception {
        JsonFields f = fields("{\"a\":1763836200000,\"b\":\"2026-11-22T18:30:00Z\",\"c\":\"+300000-01-01T00:00:00Z\","
                + "\"d\":9223372036854775807,\"e\":1e30,\"f\":\"yesterday\"}");

        assertThat(f.instant("a", null)).isEqualTo(Instant.ofEpochMilli(1763836200000L));
        assertThat(f.instant("b", null)).isEqualTo(Instant.parse("2026-11-22T18:30:00Z"));
        assertThat(f.instant("c", null)).isNull();
        assertThat(f.instant("d", null)).isNull();
        assertThat(f.instant("e", null)).isNull();
        assertThat(f.instant("f", Instant.EPOCH)).isEqualTo(Instant.EPOCH);
        assertThat(f.instant("g", Instant.EPOCH)).isEqualTo(Instant.EPOCH);
        assertThat(problems).containsExactly(
                "plans[0].c: is out of range (years 0001 to 9999 UTC), got \"+300000-01-01T00:00:00Z\"",
                "plans[0].d: is out of range (years 0001 to 9999 UTC), got 9223372036854775807",
                "plans[0].e: must be epoch milliseconds or an ISO-8601 instant such as 2026-11-22T18:30:00Z, got 1E+30",
                "plans[0].f: must be epoch milliseconds or an ISO-8601 instant such as 2026-11-22T18:30:00Z, got \"yesterday\"");
        assertThat(kinds).containsExactly(JsonFields.Kind.RANGE, JsonFields.Kind.RANGE, JsonFields.Kind.TYPE,
                JsonFields.Kind.TYPE);
    }

    @Test
    void shouldCheckOnlyTheTypeOfAPlainString() throws Exception {
        JsonFields f = fields("{\"a\":\"\",\"b\":\"x\\u0000\",\"c\":5}");

        assertThat(f.string("a")).isEmpty();
        assertThat(f.string("b")).isEqualTo("x\u0000");
        assertThat(f.string("c")).isNull();
        assertThat(problems).containsExactly("plans[0].c: must be a string");
    }
}
