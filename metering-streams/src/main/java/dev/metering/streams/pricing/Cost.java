package dev.metering.streams.pricing;

import dev.metering.avro.UsageEvent;
import java.math.BigInteger;

/**
 * Exact cost arithmetic in femto-USD (1e-15 USD).
 *
 * <p>A token priced at P nano-USD per 1,000,000 tokens costs exactly P femto-USD, so
 * {@code tokens x P} needs no rounding; a nano-USD amount is {@code x 1,000,000} femto-USD.
 * The three token counts are DISJOINT: {@code inputTokens} are uncached input tokens,
 * {@code cachedInputTokens} the cached ones (a producer that reports OpenAI-style usage, where
 * prompt tokens include the cached ones, sends {@code inputTokens = prompt - cached}).
 * Long arithmetic with overflow checks; BigInteger when a product would overflow.
 */
public final class Cost {

    /** Femto-USD per nano-USD. */
    public static final long FEMTOS_PER_NANO = 1_000_000L;

    private Cost() {
    }

    /** Cost of a producer-set {@code costNanos}. */
    public static BigInteger ofNanos(long nanos) {
        return multiply(nanos, FEMTOS_PER_NANO);
    }

    /**
     * {@code inputTokens x inputPer1M + cachedInputTokens x cachedPer1M + outputTokens x
     * outputPer1M + quantity x unitNanos x 1e6}.
     */
    public static BigInteger of(UsageEvent e, PriceVersion p) {
        long unit = p.unitNanos() == null ? 0 : p.unitNanos();
        try {
            long sum = Math.multiplyExact(e.getInputTokens(), p.inputPer1MNanos());
            sum = Math.addExact(sum, Math.multiplyExact(e.getCachedInputTokens(), p.cachedInputPer1MNanos()));
            sum = Math.addExact(sum, Math.multiplyExact(e.getOutputTokens(), p.outputPer1MNanos()));
            sum = Math.addExact(sum, Math.multiplyExact(Math.multiplyExact(e.getQuantity(), unit), FEMTOS_PER_NANO));
            return BigInteger.valueOf(sum);
        } catch (ArithmeticException overflow) {
            return big(e.getInputTokens()).multiply(big(p.inputPer1MNanos()))
                    .add(big(e.getCachedInputTokens()).multiply(big(p.cachedInputPer1MNanos())))
                    .add(big(e.getOutputTokens()).multiply(big(p.outputPer1MNanos())))
                    .add(big(e.getQuantity()).multiply(big(unit)).multiply(big(FEMTOS_PER_NANO)));
        }
    }

    /** All tokens (input + cached + output) at one flat rate in femto-USD per token. */
    public static BigInteger ofFallback(UsageEvent e, BigInteger femtosPerToken) {
        BigInteger tokens = big(e.getInputTokens()).add(big(e.getCachedInputTokens())).add(big(e.getOutputTokens()));
        return tokens.multiply(femtosPerToken);
    }

    private static BigInteger multiply(long a, long b) {
        try {
            return BigInteger.valueOf(Math.multiplyExact(a, b));
        } catch (ArithmeticException overflow) {
            return big(a).multiply(big(b));
        }
    }

    private static BigInteger big(long v) {
        return BigInteger.valueOf(v);
    }
}
