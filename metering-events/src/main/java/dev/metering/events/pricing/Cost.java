package dev.metering.events.pricing;

import dev.metering.avro.UsageEvent;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.util.Locale;

/**
 * Exact cost arithmetic in femto-USD (1e-15 USD).
 *
 * <p>A token priced at P nano-USD per 1,000,000 tokens costs exactly P femto-USD, so
 * {@code tokens x P} needs no rounding; a nano-USD amount is {@code x 1,000,000} femto-USD.
 * The four token counts are DISJOINT: {@code inputTokens} are uncached input tokens,
 * {@code cachedInputTokens} the cache reads, {@code cacheWriteTokens} the cache writes (a
 * producer that reports OpenAI-style usage, where prompt tokens include the cached ones, sends
 * {@code inputTokens = prompt - cached}); {@code reasoningTokens} are a part of
 * {@code outputTokens} and are not priced again.
 *
 * <p>Price book v2, in this order:
 * <ol>
 *   <li>context tier: the request's prompt is {@code inputTokens + cachedInputTokens +
 *       cacheWriteTokens} (Anthropic and Google put the long-context threshold on the whole
 *       prompt); when it is strictly above a tier's {@code aboveInputTokens}, the tier with the
 *       highest such threshold replaces the version's four token prices for the whole request;</li>
 *   <li>cache writes at the cache-write price of the tier or version, else at its input price;</li>
 *   <li>service tier: when the version names the event's {@code serviceTier} (case-insensitive),
 *       the whole cost (unit price included) is multiplied by its exact decimal multiplier and
 *       rounded ONCE, half-even, to a whole femto-USD (at most 0.5e-15 USD per event; none at all
 *       when the product is whole, e.g. 0.5 x an even cost or 2 x anything). An unknown or absent
 *       tier pays the standard prices.</li>
 * </ol>
 * Long arithmetic with overflow checks; BigInteger when a product would overflow.
 */
public final class Cost {

    /** Femto-USD per nano-USD. */
    public static final long FEMTOS_PER_NANO = 1_000_000L;

    private Cost() {
    }

    /**
     * An event's cost and how it was reached.
     *
     * @param contextTier the {@code aboveInputTokens} of the context tier applied; null for the base prices
     * @param serviceTier the service tier whose multiplier applied; null for standard prices
     */
    public record Quote(BigInteger femtos, Long contextTier, String serviceTier) {
    }

    /**
     * Whether the event costs nothing unless it carries {@code costNanos}: no tokens and no provider
     * or model (a chat message, a file upload); every other event is priced by its model's version.
     */
    public static boolean isFree(UsageEvent e) {
        boolean hasTokens = e.getInputTokens() > 0 || e.getOutputTokens() > 0 || e.getCachedInputTokens() > 0
                || e.getCacheWriteTokens() > 0;
        return !hasTokens && e.getProvider() == null && e.getModel() == null;
    }

    /** Cost of a producer-set {@code costNanos}. */
    public static BigInteger ofNanos(long nanos) {
        return multiply(nanos, FEMTOS_PER_NANO);
    }

    /** The cost of {@link #quote}. */
    public static BigInteger of(UsageEvent e, PriceVersionNanos p) {
        return quote(e, p).femtos();
    }

    /** The event priced by version {@code p} (rules in the class comment). */
    public static Quote quote(UsageEvent e, PriceVersionNanos p) {
        PriceVersionNanos.ContextTier tier = contextTier(e, p);
        long in = tier == null ? p.inputPer1MNanos() : tier.inputPer1MNanos();
        long cached = tier == null ? p.cachedInputPer1MNanos() : tier.cachedInputPer1MNanos();
        Long cacheWrite = tier == null ? p.cacheWritePer1MNanos() : tier.cacheWritePer1MNanos();
        long write = cacheWrite == null ? in : cacheWrite;
        long out = tier == null ? p.outputPer1MNanos() : tier.outputPer1MNanos();
        long unit = p.unitNanos() == null ? 0 : p.unitNanos();
        BigInteger femtos;
        try {
            long sum = Math.multiplyExact(e.getInputTokens(), in);
            sum = Math.addExact(sum, Math.multiplyExact(e.getCachedInputTokens(), cached));
            sum = Math.addExact(sum, Math.multiplyExact(e.getCacheWriteTokens(), write));
            sum = Math.addExact(sum, Math.multiplyExact(e.getOutputTokens(), out));
            sum = Math.addExact(sum, Math.multiplyExact(Math.multiplyExact(e.getQuantity(), unit), FEMTOS_PER_NANO));
            femtos = BigInteger.valueOf(sum);
        } catch (ArithmeticException overflow) {
            femtos = big(e.getInputTokens()).multiply(big(in))
                    .add(big(e.getCachedInputTokens()).multiply(big(cached)))
                    .add(big(e.getCacheWriteTokens()).multiply(big(write)))
                    .add(big(e.getOutputTokens()).multiply(big(out)))
                    .add(big(e.getQuantity()).multiply(big(unit)).multiply(big(FEMTOS_PER_NANO)));
        }
        String serviceTier = e.getServiceTier() == null ? null : e.getServiceTier().toLowerCase(Locale.ROOT);
        BigDecimal multiplier = serviceTier == null ? null : p.serviceTiers().get(serviceTier);
        if (multiplier != null) {
            femtos = new BigDecimal(femtos).multiply(multiplier).setScale(0, RoundingMode.HALF_EVEN).toBigIntegerExact();
        }
        return new Quote(femtos, tier == null ? null : tier.aboveInputTokens(), multiplier == null ? null : serviceTier);
    }

    /** The tier with the highest threshold strictly below the request's prompt; null when none. */
    static PriceVersionNanos.ContextTier contextTier(UsageEvent e, PriceVersionNanos p) {
        if (p.contextTiers().isEmpty()) {
            return null;
        }
        BigInteger prompt = big(e.getInputTokens()).add(big(e.getCachedInputTokens())).add(big(e.getCacheWriteTokens()));
        PriceVersionNanos.ContextTier applied = null;
        for (PriceVersionNanos.ContextTier t : p.contextTiers()) {
            if (prompt.compareTo(big(t.aboveInputTokens())) > 0
                    && (applied == null || t.aboveInputTokens() > applied.aboveInputTokens())) {
                applied = t;
            }
        }
        return applied;
    }

    /** All tokens (input + cached + cache write + output) at one flat rate in femto-USD per token. */
    public static BigInteger ofFallback(UsageEvent e, BigInteger femtosPerToken) {
        BigInteger tokens = big(e.getInputTokens()).add(big(e.getCachedInputTokens())).add(big(e.getCacheWriteTokens()))
                .add(big(e.getOutputTokens()));
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
