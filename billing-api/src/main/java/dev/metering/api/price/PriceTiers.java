package dev.metering.api.price;

import com.fasterxml.jackson.databind.JsonNode;
import dev.metering.api.json.DecimalRule;
import dev.metering.api.json.JsonFields;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The price book v2 parts of a version in both wire formats: context tiers and service tiers,
 * read and validated (each problem naming its place, as {@link PriceBookFormat} does) and written
 * back, also as the JSON stored in {@code model_prices}.
 */
final class PriceTiers {

    static final int MAX_CONTEXT_TIERS = 8;
    private static final long MAX_THRESHOLD = 10_000_000_000L;
    private static final Set<String> TIER_FIELDS = Set.of("aboveInputTokens", "inputPer1mUsd", "cachedInputPer1mUsd",
            "cacheWritePer1mUsd", "outputPer1mUsd");

    private PriceTiers() {
    }

    /** A context tier as read, with where it was read (for messages). */
    record TierAt(PriceVersion.ContextTier tier, String where, String thresholdField, String cacheWriteField) {
    }

    static List<TierAt> jsonContextTiers(JsonNode node, String where, List<String> problems) {
        List<TierAt> tiers = new ArrayList<>();
        if (node == null || node.isNull()) {
            return tiers;
        }
        if (!node.isArray()) {
            problems.add(where + ": expected an array of {aboveInputTokens, inputPer1mUsd, cachedInputPer1mUsd, "
                    + "cacheWritePer1mUsd, outputPer1mUsd}");
            return tiers;
        }
        for (int t = 0; t < node.size(); t++) {
            JsonNode tier = node.get(t);
            String at = where + "[" + t + "]";
            if (!tier.isObject()) {
                problems.add(at + ": expected an object");
                continue;
            }
            int before = problems.size();
            new JsonFields(tier, at + ".", JsonFields.collectInto(problems)).onlyFields(TIER_FIELDS, "");
            Long threshold = threshold(PriceBookFormat.text(tier, "aboveInputTokens"), at + ".aboveInputTokens", problems);
            BigDecimal in = usd(tier, "inputPer1mUsd", at, problems, true);
            BigDecimal cached = usd(tier, "cachedInputPer1mUsd", at, problems, true);
            BigDecimal cacheWrite = usd(tier, "cacheWritePer1mUsd", at, problems, false);
            BigDecimal outp = usd(tier, "outputPer1mUsd", at, problems, true);
            if (problems.size() == before) {
                tiers.add(new TierAt(new PriceVersion.ContextTier(threshold, in, cached, cacheWrite, outp), at,
                        at + ".aboveInputTokens", at + ".cacheWritePer1mUsd"));
            }
        }
        return tiers;
    }

    private static BigDecimal usd(JsonNode tier, String field, String at, List<String> problems, boolean required) {
        return PriceBookFormat.usd(tier, field, at + "." + field, problems, required);
    }

    static Map<String, BigDecimal> jsonServiceTiers(JsonNode node, String where, List<String> problems) {
        Map<String, BigDecimal> tiers = new TreeMap<>();
        if (node == null || node.isNull()) {
            return tiers;
        }
        if (!node.isObject()) {
            problems.add(where + ": expected an object such as {\"batch\": {\"multiplier\": \"0.5\"}}");
            return tiers;
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String at = where + "." + e.getKey();
            if (!serviceTierName(e.getKey(), at, problems)) {
                continue;
            }
            JsonNode tier = e.getValue();
            if (!tier.isObject()) {
                problems.add(at + ": expected an object such as {\"multiplier\": \"0.5\"}");
                continue;
            }
            new JsonFields(tier, at + ".", JsonFields.collectInto(problems)).onlyFields(Set.of("multiplier"),
                    " (expected multiplier)");
            JsonNode m = tier.get("multiplier");
            BigDecimal multiplier = m == null || m.isNull() || m.isTextual()
                    ? multiplier(m == null || m.isNull() ? null : m.asText(), at + ".multiplier", problems)
                    : multiplier(DecimalRule.MULTIPLIER.read(m), at + ".multiplier", problems);
            if (multiplier != null) {
                tiers.put(e.getKey(), multiplier);
            }
        }
        return tiers;
    }

    /** {@code batch=0.5;priority=2}. */
    static Map<String, BigDecimal> serviceTiersCell(String cell, String where, List<String> problems) {
        Map<String, BigDecimal> tiers = new TreeMap<>();
        if (cell == null || cell.isEmpty()) {
            return tiers;
        }
        for (String part : cell.split(";", -1)) {
            String[] kv = part.strip().split("=", -1);
            if (kv.length != 2) {
                problems.add(where + ": '" + part.strip() + "' is not name=multiplier (e.g. batch=0.5;priority=2)");
                continue;
            }
            String name = kv[0].strip();
            if (!serviceTierName(name, where, problems)) {
                continue;
            }
            if (tiers.containsKey(name)) {
                problems.add(where + ": service tier '" + name + "' appears more than once");
                continue;
            }
            BigDecimal m = multiplier(kv[1].strip(), where, problems);
            if (m != null) {
                tiers.put(name, m);
            }
        }
        return tiers;
    }

    private static boolean serviceTierName(String name, String where, List<String> problems) {
        if (!PriceVersion.SERVICE_TIERS.contains(name)) {
            problems.add(where + ": unknown service tier '" + name + "' (expected batch, flex or priority; the standard "
                    + "tier is the version's own prices)");
            return false;
        }
        return true;
    }

    private static BigDecimal multiplier(String value, String where, List<String> problems) {
        if (value == null || value.isBlank()) {
            problems.add(where + ": a multiplier is required, e.g. 0.5");
            return null;
        }
        return multiplier(DecimalRule.MULTIPLIER.read(value), where, problems);
    }

    private static BigDecimal multiplier(DecimalRule.Parsed m, String where, List<String> problems) {
        if (!m.ok()) {
            problems.add(where + ": " + m.problem());
            return null;
        }
        return m.value();
    }

    static Long threshold(String value, String where, List<String> problems) {
        if (value == null || value.isBlank()) {
            problems.add(where + ": required (the number of prompt tokens above which the tier's prices apply)");
            return null;
        }
        if (!value.matches("[0-9]{1,11}") || Long.parseLong(value) < 1 || Long.parseLong(value) > MAX_THRESHOLD) {
            problems.add(where + ": '" + value + "' is not a whole number of tokens from 1 to " + MAX_THRESHOLD);
            return null;
        }
        return Long.parseLong(value);
    }

    /** Thresholds strictly ascending, at most {@link #MAX_CONTEXT_TIERS}, cache-write prices on all or none. */
    static void contextTiers(List<TierAt> tiers, BigDecimal versionCacheWrite, List<String> problems) {
        if (tiers.size() > MAX_CONTEXT_TIERS) {
            problems.add(tiers.get(MAX_CONTEXT_TIERS).thresholdField() + ": at most " + MAX_CONTEXT_TIERS
                    + " context tiers per version");
        }
        for (int i = 0; i < tiers.size(); i++) {
            TierAt t = tiers.get(i);
            if (i > 0 && t.tier().aboveInputTokens() <= tiers.get(i - 1).tier().aboveInputTokens()) {
                problems.add(t.thresholdField() + ": " + t.tier().aboveInputTokens() + " must be above the previous tier's "
                        + tiers.get(i - 1).tier().aboveInputTokens() + " (thresholds strictly ascending, each once)");
            }
            if ((t.tier().cacheWritePer1mUsd() == null) != (versionCacheWrite == null)) {
                problems.add(t.cacheWriteField() + ": " + (versionCacheWrite == null
                        ? "the version has no cache-write price, so its tiers have none either"
                        : "required, as the version has a cache-write price"));
            }
        }
    }

    /** {@code batch=0.5;priority=2}, by name. */
    static String serviceTiersCell(Map<String, BigDecimal> tiers) {
        StringBuilder sb = new StringBuilder();
        new TreeMap<>(tiers).forEach((name, m) -> sb.append(sb.length() == 0 ? "" : ";").append(name).append('=')
                .append(PriceBookFormat.money(m)));
        return sb.toString();
    }

    static List<Map<String, Object>> contextTiersJson(List<PriceVersion.ContextTier> tiers) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (PriceVersion.ContextTier t : tiers) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("aboveInputTokens", t.aboveInputTokens());
            m.put("inputPer1mUsd", PriceBookFormat.money(t.inputPer1mUsd()));
            m.put("cachedInputPer1mUsd", PriceBookFormat.money(t.cachedInputPer1mUsd()));
            m.put("cacheWritePer1mUsd", PriceBookFormat.money(t.cacheWritePer1mUsd()));
            m.put("outputPer1mUsd", PriceBookFormat.money(t.outputPer1mUsd()));
            out.add(m);
        }
        return out;
    }

    static Map<String, Object> serviceTiersJson(Map<String, BigDecimal> tiers) {
        Map<String, Object> out = new TreeMap<>();
        tiers.forEach((name, m) -> out.put(name, Map.of("multiplier", PriceBookFormat.money(m))));
        return out;
    }

    /** Reads back what {@link #contextTiersJson} wrote (stored, already validated). */
    static List<PriceVersion.ContextTier> contextTiers(JsonNode node) {
        List<PriceVersion.ContextTier> out = new ArrayList<>();
        if (node != null && node.isArray()) {
            for (JsonNode t : node) {
                out.add(new PriceVersion.ContextTier(t.get("aboveInputTokens").asLong(), decimal(t, "inputPer1mUsd"),
                        decimal(t, "cachedInputPer1mUsd"), decimal(t, "cacheWritePer1mUsd"), decimal(t, "outputPer1mUsd")));
            }
        }
        return out;
    }

    /** Reads back what {@link #serviceTiersJson} wrote. */
    static Map<String, BigDecimal> serviceTiers(JsonNode node) {
        Map<String, BigDecimal> out = new TreeMap<>();
        if (node != null && node.isObject()) {
            node.fields().forEachRemaining(e -> out.put(e.getKey(), decimal(e.getValue(), "multiplier")));
        }
        return out;
    }

    private static BigDecimal decimal(JsonNode node, String field) {
        String text = PriceBookFormat.text(node, field);
        return text == null ? null : new BigDecimal(text);
    }
}
