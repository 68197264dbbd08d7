package dev.metering.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.math.BigDecimal;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class InputBoundsTest {

    private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);

    private static JsonNode number(String text) throws Exception {
        return JSON.readTree(text);
    }

    @Test
    void shouldRefuseHugeExponentsAndPrecisionWithoutArithmetic() throws Exception {
        for (String text : new String[] {"1e2147483647", "1e100000", "-1e-2147483647", "1e19", "1e-19",
                "0." + "1".repeat(39), "1" + "0".repeat(40)}) {
            assertThatThrownBy(() -> InputBounds.decimal(number(text))).as(text)
                    .isInstanceOf(NumberFormatException.class).hasMessageStartingWith("is out of range");
        }
        assertThatThrownBy(() -> InputBounds.decimal("1e100000")).hasMessageStartingWith("is out of range");
        assertThatThrownBy(() -> InputBounds.decimal("9".repeat(65))).hasMessageContaining("longer than 64");
        assertThatThrownBy(() -> InputBounds.decimal("ten")).hasMessage("is not a decimal number");
    }

    @Test
    void shouldAcceptEveryAmountTheContractAllows() throws Exception {
        assertThat(InputBounds.decimal(number("999999999999999.999999999"))).isEqualByComparingTo("999999999999999.999999999");
        assertThat(InputBounds.decimal(number("1e15"))).isEqualByComparingTo("1000000000000000");
        assertThat(InputBounds.decimal("0.000000001")).isEqualByComparingTo("0.000000001");
        assertThat(InputBounds.decimal(number("9223372036854775807"))).isEqualByComparingTo(new BigDecimal(Long.MAX_VALUE));
    }

    @Test
    void shouldRefuseWholeNumbersBeyondLongRatherThanTruncate() throws Exception {
        assertThat(InputBounds.longProblem(number("9223372036854775807"))).isNull();
        assertThat(InputBounds.longProblem(number("9223372036854775808"))).startsWith("is out of range");
        assertThat(InputBounds.longProblem(number("-9223372036854775809"))).startsWith("is out of range");
        assertThat(InputBounds.longProblem(number("1.5"))).isEqualTo("must be a whole number");
    }

    @Test
    void shouldKeepInstantsWithinYearsOneToNineThousandNineHundredNinetyNine() {
        assertThat(InputBounds.instantProblem(Instant.parse("+300000-01-01T00:00:00Z"))).isNotNull();
        assertThat(InputBounds.instantProblem(Instant.parse("-5000-01-01T00:00:00Z"))).isNotNull();
        assertThat(InputBounds.instantProblem(Instant.parse("9999-12-31T23:59:59Z"))).isNull();
        assertThat(InputBounds.instantProblem(Instant.parse("0001-01-01T00:00:00Z"))).isNull();
        assertThat(InputBounds.epochMillis(Long.MAX_VALUE)).isNull();
        assertThat(InputBounds.epochMillis(0)).isEqualTo(Instant.EPOCH);
        assertThat(InputBounds.textProblem("a\0b")).isNotNull();
        assertThat(InputBounds.textProblem("tab\tok")).isNull();
    }
}
