package dev.metering.api.plan;

import com.fasterxml.jackson.databind.JsonNode;
import dev.metering.api.json.DecimalRule;
import dev.metering.api.json.JsonFields;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;

/**
 * A limit's {@code alertAt} in the catalog: fractions of the limit, each in (0, 10] with at most
 * 4 decimals, no duplicates, at most 10; absent means {@link PlanLimit#DEFAULT_ALERT_AT}, {@code []}
 * turns alerts off. Fractions above 1 serve soft limits that may be exceeded.
 */
public final class AlertThresholds {

    static final int MAX_THRESHOLDS = 10;

    private AlertThresholds() {
    }

    /** The sorted fractions, or null after adding each problem with its path to {@code problems}. */
    static List<BigDecimal> parse(JsonNode node, String path, List<String> problems) {
        if (node == null || node.isNull()) {
            return PlanLimit.DEFAULT_ALERT_AT;
        }
        if (!node.isArray()) {
            problems.add(path + ": expected a list of fractions, e.g. [0.8, 1.0]");
            return null;
        }
        if (node.size() > MAX_THRESHOLDS) {
            problems.add(path + ": at most " + MAX_THRESHOLDS + " thresholds, got " + node.size());
            return null;
        }
        int before = problems.size();
        List<BigDecimal> out = new ArrayList<>();
        JsonFields fields = new JsonFields(node, path, JsonFields.collectInto(problems));
        for (int i = 0; i < node.size(); i++) {
            String fpath = path + "[" + i + "]";
            BigDecimal v = fields.decimal(node.get(i), fpath, DecimalRule.FRACTION, null);
            if (v == null) {
                continue;
            }
            if (out.stream().anyMatch(o -> o.compareTo(v) == 0)) {
                problems.add(fpath + ": duplicate threshold " + v.toPlainString());
            } else {
                out.add(v.stripTrailingZeros());
            }
        }
        if (problems.size() > before) {
            return null;
        }
        out.sort(null);
        return List.copyOf(out);
    }
}
