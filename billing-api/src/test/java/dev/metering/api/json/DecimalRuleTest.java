package dev.metering.api.json;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

class DecimalRuleTest {

    private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);

    private static JsonNode json(String text) throws Exception {
        return JSON.readTree(text);
    }

    @Test
    void shouldReadJsonNumbersWithExponentsButNotExponentStrings() throws Exception {
        assertThat(DecimalRule.AMOUNT.read(json("1e3")).value()).isEqualByComparingTo("1000");
        assertThat(DecimalRule.PRICE.read(json("2.5E-1")).value()).isEqualByComparingTo("0.25");
        assertThat(DecimalRule.AMOUNT.read(json("\"1e3\"")).problem()).isEqualTo("'1e3' is not a decimal amount, e.g. \"10.00\"");
        assertThat(DecimalRule.PRICE.read("1e3").problem()).isEqualTo("'1e3' is not a plain decimal number such as 1.25");
        assertThat(DecimalRule.AMOUNT.read(" 10.50 ").value()).isEqualByComparingTo("10.5");
    }

    @Test
    void shouldRefuseHugeExponentsAsOutOfRangeInEveryRule() throws Exception {
        for (DecimalRule rule : new DecimalRule[] {DecimalRule.AMOUNT, DecimalRule.PRICE, DecimalRule.MULTIPLIER,
                DecimalRule.FRACTION}) {
            DecimalRule.Parsed p = rule.read(json("1e2147483647"));
            assertThat(p.problem()).startsWith("is out of range");
            assertThat(p.type()).isFalse();
            assertThat(rule.read("1" + "0".repeat(40)).problem()).startsWith("is out of range");
        }
    }

    @Test
    void shouldRefuseValuesThatAreNoDecimalAsAWrongForm() throws Exception {
        DecimalRule.Parsed p = DecimalRule.AMOUNT.read(json("true"));
        assertThat(p.problem()).isEqualTo("'true' is not a decimal amount, e.g. \"10.00\"");
        assertThat(p.type()).isTrue();
        assertThat(DecimalRule.FRACTION.read(json("{}")).problem()).isEqualTo("'{}' is not a fraction, e.g. 0.8");
        assertThat(DecimalRule.AMOUNT.read("9".repeat(100)).problem()).startsWith("'" + "9".repeat(80) + "...' is not");
    }

    @Test
    void shouldKeepMoneyToNanoUsdAndBelowItsBound() {
        assertThat(DecimalRule.AMOUNT.read("999999999999999.999999999").ok()).isTrue();
        assertThat(DecimalRule.AMOUNT.read("1000000000000000").problem())
                .isEqualTo("1000000000000000 is out of range (at most 9 decimals, below 1e15)");
        assertThat(DecimalRule.AMOUNT.read("0.0000000001").problem())
                .isEqualTo("0.0000000001 is out of range (at most 9 decimals, below 1e15)");
        assertThat(DecimalRule.AMOUNT.read("1.500000000000").value()).isEqualByComparingTo("1.5");
        assertThat(DecimalRule.AMOUNT.read("0").ok()).isTrue();
        assertThat(DecimalRule.AMOUNT.read("-1").problem()).isEqualTo("must not be negative, got -1");
        assertThat(DecimalRule.POSITIVE_AMOUNT.read("0").problem()).isEqualTo("must be positive, got 0");
        assertThat(DecimalRule.PRICE.read("999999.999999999").ok()).isTrue();
        assertThat(DecimalRule.PRICE.read("1000000").problem()).isEqualTo("1000000 must be below 1000000");
        assertThat(DecimalRule.PRICE.read("0.0000000001").problem())
                .isEqualTo("0.0000000001 is finer than 1 nano-USD (at most 9 decimals)");
    }

    @Test
    void shouldBoundMultipliersAndFractionsInclusively() {
        assertThat(DecimalRule.MULTIPLIER.read("100").ok()).isTrue();
        assertThat(DecimalRule.MULTIPLIER.read("100.000001").problem()).isEqualTo("multiplier 100.000001 must be at most 100");
        assertThat(DecimalRule.MULTIPLIER.read("0.000001").ok()).isTrue();
        assertThat(DecimalRule.MULTIPLIER.read("0.0000001").problem()).isEqualTo("multiplier 0.0000001 has more than 6 decimals");
        assertThat(DecimalRule.FRACTION.read("10").ok()).isTrue();
        assertThat(DecimalRule.FRACTION.read("-0.5").problem()).isEqualTo("must be above 0 and at most 10, got -0.5");
        assertThat(DecimalRule.FRACTION.read("0.12345").problem()).isEqualTo("at most 4 decimals, got 0.12345");
    }

    @Test
    void shouldGiveTheValueReadAlongWithARangeProblem() {
        DecimalRule.Parsed p = DecimalRule.PRICE.read("-2");
        assertThat(p.ok()).isFalse();
        assertThat(p.value()).isEqualByComparingTo("-2");
        assertThat(DecimalRule.PRICE.read("two").value()).isNull();
    }

    @Test
    void shouldDescribeWhatIsNoDecimalInTheCallersWords() {
        assertThat(DecimalRule.AMOUNT.describedAs("'%s' is not a whole number").read("lots").problem())
                .isEqualTo("'lots' is not a whole number");
        assertThat(DecimalRule.AMOUNT.describedAs("'%s' is not a whole number").read("-1").problem())
                .isEqualTo("must not be negative, got -1");
    }
}
