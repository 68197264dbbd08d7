package dev.metering.streams.it;

import dev.metering.avro.ModelPrice;
import dev.metering.avro.ModelPriceVersion;
import dev.metering.avro.UsageEvent;
import dev.metering.avro.UsageWindowKey;
import dev.metering.avro.UsageWindowTotals;
import dev.metering.avro.WindowGrain;
import dev.metering.avro.WindowSize;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A reproducible workload and its ground truth, computed here independently of the topology:
 * {@code orgs} orgs, {@code models} models (the last two without a price, some with a price
 * change half-way), events spread over 24 hours and shuffled by up to 3 hours (well within the
 * 48 h grace), then {@code duplicates} re-sends of random events at random later positions.
 */
public final class UsageDataset {

    public record Model(String provider, String model, ModelPrice price) {
    }

    public final List<Model> models = new ArrayList<>();
    /** Unique events, in send order (duplicates come in {@link #sendOrder}). */
    public final List<UsageEvent> unique = new ArrayList<>();
    /** Every event to send, duplicates included, shuffled. */
    public final List<UsageEvent> sendOrder = new ArrayList<>();
    public final Instant start;

    public UsageDataset(long seed, int events, int orgs, int modelCount, double duplicateShare, Instant start) {
        this.start = start;
        Random random = new Random(seed);
        Instant priceChange = start.plus(Duration.ofHours(12));
        for (int m = 0; m < modelCount; m++) {
            String provider = "provider-" + (m % 4);
            String model = "model-" + m;
            ModelPrice price = null;
            if (m < modelCount - 2) {
                long input = 100_000_000L * (m + 1);
                long cached = input / 10;
                long output = 4 * input + 7;
                Long unit = m % 5 == 0 ? 1_000L * (m + 1) : null;
                List<ModelPriceVersion> history = new ArrayList<>();
                Instant effective = Instant.parse("2026-01-01T00:00:00Z");
                if (m % 3 == 0) { // price change half-way: the record holds the new price, the old one in history
                    history.add(ModelPriceVersion.newBuilder().setEffectiveFrom(effective).setInputPer1MNanos(input)
                            .setCachedInputPer1MNanos(cached).setOutputPer1MNanos(output).setUnitNanos(unit).build());
                    effective = priceChange;
                    input = input * 2 + 1;
                    output = output + 13;
                }
                price = ModelPrice.newBuilder().setProvider(provider).setModel(model).setEffectiveFrom(effective)
                        .setInputPer1MNanos(input).setCachedInputPer1MNanos(cached).setOutputPer1MNanos(output)
                        .setUnitNanos(unit).setHistory(history).build();
            }
            models.add(new Model(provider, model, price));
        }
        long spanMs = Duration.ofHours(24).toMillis();
        List<long[]> timed = new ArrayList<>();
        for (int i = 0; i < events; i++) {
            String org = "org-" + random.nextInt(orgs);
            long at = start.toEpochMilli() + (long) (random.nextDouble() * spanMs);
            UsageEvent.Builder b = UsageEvent.newBuilder()
                    .setEventId("e-" + seed + "-" + i)
                    .setOrgId(org)
                    .setOccurredAt(Instant.ofEpochMilli(at))
                    .setUserId(random.nextInt(10) == 0 ? null : "user-" + random.nextInt(5))
                    .setConversationId(random.nextInt(2) == 0 ? null : "conv-" + random.nextInt(20))
                    .setAttributes(new HashMap<>());
            int kind = random.nextInt(10);
            if (kind < 3) {
                b.setFeature("CHAT_MESSAGE");
            } else if (kind < 9) {
                Model m = models.get(random.nextInt(models.size()));
                b.setFeature(kind < 8 ? "AI_COMPLETION" : "EMBEDDING").setProvider(m.provider()).setModel(m.model())
                        .setInputTokens(random.nextInt(5000)).setOutputTokens(kind < 8 ? random.nextInt(2000) : 0)
                        .setCachedInputTokens(random.nextInt(4) == 0 ? random.nextInt(3000) : 0);
                if (random.nextInt(50) == 0) {
                    b.setCostNanos((long) random.nextInt(1_000_000));
                }
            } else {
                Model m = models.get(random.nextInt(5) * 5 % models.size());
                b.setFeature("FILE_UPLOAD").setProvider(m.provider()).setModel(m.model()).setQuantity(1 + random.nextInt(20));
            }
            unique.add(b.build());
            // shuffle within grace: sort by time jittered by up to 3 hours
            timed.add(new long[] {at + (long) (random.nextDouble() * Duration.ofHours(3).toMillis()), i});
        }
        timed.sort((x, y) -> Long.compare(x[0], y[0]));
        for (long[] t : timed) {
            sendOrder.add(unique.get((int) t[1]));
        }
        int duplicates = (int) (events * duplicateShare);
        for (int d = 0; d < duplicates; d++) {
            int original = random.nextInt(sendOrder.size());
            int position = original + 1 + random.nextInt(Math.max(1, Math.min(2000, sendOrder.size() - original)));
            sendOrder.add(Math.min(position, sendOrder.size()), sendOrder.get(original));
        }
    }

    /** The expected final totals of every window row: what the sink must end up holding. */
    private static UsageWindowKey key(WindowGrain grain, WindowSize size, long start, String org, String user, String feature,
            String provider, String model, String conversation) {
        return UsageWindowKey.newBuilder().setGrain(grain).setSize(size).setWindowStart(Instant.ofEpochMilli(start))
                .setOrgId(org).setUserId(user).setFeature(feature).setProvider(provider).setModel(model)
                .setConversationId(conversation).build();
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }

    public Map<UsageWindowKey, UsageWindowTotals> groundTruth() {
        Map<UsageWindowKey, long[]> sums = new HashMap<>();
        Map<UsageWindowKey, BigInteger> costs = new HashMap<>();
        for (UsageEvent e : unique) {
            BigInteger cost = BigInteger.ZERO;
            boolean unpriced = false;
            if (e.getCostNanos() != null) {
                cost = BigInteger.valueOf(e.getCostNanos()).multiply(BigInteger.valueOf(1_000_000));
            } else if (e.getModel() != null) {
                ModelPrice price = priceOf(e.getProvider(), e.getModel());
                long at = e.getOccurredAt().toEpochMilli();
                long[] v = price == null ? null : versionAt(price, at);
                if (v == null) {
                    unpriced = true; // names a model the price book does not know (and no fallback is configured)
                } else {
                    cost = big(e.getInputTokens()).multiply(big(v[0]))
                            .add(big(e.getCachedInputTokens()).multiply(big(v[1])))
                            .add(big(e.getOutputTokens()).multiply(big(v[2])))
                            .add(big(e.getQuantity()).multiply(big(v[3])).multiply(big(1_000_000)));
                }
            }
            long at = e.getOccurredAt().toEpochMilli();
            long hour = Math.floorDiv(at, 3_600_000L) * 3_600_000L;
            long day = Math.floorDiv(at, 86_400_000L) * 86_400_000L;
            List<UsageWindowKey> rows = new ArrayList<>();
            // DETAIL per hour; ORG per hour and day; CONVERSATION over the conversation's life
            rows.add(key(WindowGrain.DETAIL, WindowSize.HOUR, hour, e.getOrgId(), nz(e.getUserId()), e.getFeature(),
                    nz(e.getProvider()), nz(e.getModel()), ""));
            rows.add(key(WindowGrain.ORG, WindowSize.HOUR, hour, e.getOrgId(), "", e.getFeature(), "", "", ""));
            rows.add(key(WindowGrain.ORG, WindowSize.DAY, day, e.getOrgId(), "", e.getFeature(), "", "", ""));
            if (e.getConversationId() != null) {
                rows.add(key(WindowGrain.CONVERSATION, WindowSize.LIFETIME, 0L, e.getOrgId(), "", e.getFeature(), "", "",
                        e.getConversationId()));
            }
            for (UsageWindowKey key : rows) {
                long[] s = sums.computeIfAbsent(key, k -> new long[] {0, 0, 0, 0, 0, 0, Long.MAX_VALUE, Long.MIN_VALUE});
                s[0]++;
                s[1] += e.getQuantity();
                s[2] += e.getInputTokens();
                s[3] += e.getOutputTokens();
                s[4] += e.getCachedInputTokens();
                s[5] += unpriced ? 1 : 0;
                s[6] = Math.min(s[6], at);
                s[7] = Math.max(s[7], at);
                costs.merge(key, cost, BigInteger::add);
            }
        }
        Map<UsageWindowKey, UsageWindowTotals> truth = new HashMap<>();
        sums.forEach((key, s) -> truth.put(key, UsageWindowTotals.newBuilder()
                .setEvents(s[0]).setQuantity(s[1]).setInputTokens(s[2]).setOutputTokens(s[3]).setCachedInputTokens(s[4])
                .setUnpricedEvents(s[5]).setCostFemtos(new BigDecimal(costs.get(key)))
                .setFirstEventAt(Instant.ofEpochMilli(s[6])).setLastEventAt(Instant.ofEpochMilli(s[7]))
                .setVersion(s[0]) // one version per event folded in
                .build()));
        return truth;
    }

    private ModelPrice priceOf(String provider, String model) {
        for (Model m : models) {
            if (m.provider().equals(provider) && m.model().equals(model)) {
                return m.price();
            }
        }
        return null;
    }

    /** {input, cached, output, unit} of the version in force at {@code at}, or null. */
    private static long[] versionAt(ModelPrice p, long at) {
        long[] best = null;
        long bestFrom = Long.MIN_VALUE;
        if (p.getEffectiveFrom().toEpochMilli() <= at) {
            best = new long[] {p.getInputPer1MNanos(), p.getCachedInputPer1MNanos(), p.getOutputPer1MNanos(),
                    p.getUnitNanos() == null ? 0 : p.getUnitNanos()};
            bestFrom = p.getEffectiveFrom().toEpochMilli();
        }
        for (ModelPriceVersion v : p.getHistory()) {
            long from = v.getEffectiveFrom().toEpochMilli();
            if (from <= at && from > bestFrom) {
                best = new long[] {v.getInputPer1MNanos(), v.getCachedInputPer1MNanos(), v.getOutputPer1MNanos(),
                        v.getUnitNanos() == null ? 0 : v.getUnitNanos()};
                bestFrom = from;
            }
        }
        return best;
    }

    private static BigInteger big(long v) {
        return BigInteger.valueOf(v);
    }

    public static List<UsageEvent> shuffledCopy(List<UsageEvent> events, long seed) {
        List<UsageEvent> copy = new ArrayList<>(events);
        Collections.shuffle(copy, new Random(seed));
        return copy;
    }
}
