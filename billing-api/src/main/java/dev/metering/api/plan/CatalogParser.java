package dev.metering.api.plan;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.metering.api.InputBounds;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Parses and validates a plan catalog written in YAML or JSON (docs/contract.md, Plan catalog). Validation collects
 * every problem with its path, e.g. {@code plans[2].limits[0].window: unknown window 'weekly'},
 * and throws them all at once; a catalog that parses is safe to evaluate.
 */
public final class CatalogParser {

    public enum Format { YAML, JSON }

    public static final Pattern FEATURE_CODE = Pattern.compile("[A-Z][A-Z0-9_]{0,63}");
    private static final Pattern PLAN_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");
    private static final Pattern LIMIT_ID = PLAN_ID;
    private static final Pattern ERROR_CODE = FEATURE_CODE;
    private static final BigDecimal DEFAULT_MIN_BALANCE = new BigDecimal("0.01");
    /** NUMERIC(24,9): 15 integer digits, 9 fraction digits. */
    private static final int MAX_SCALE = 9;
    private static final BigDecimal MAX_AMOUNT = new BigDecimal("1e15");

    private static final Set<String> ROOT_FIELDS = Set.of("defaultPlan", "plans");
    private static final Set<String> PLAN_FIELDS = Set.of("id", "name", "priceUsd", "features", "prepaid",
            "minBalanceUsd", "welcomeCreditUsd", "limits", "lowBalanceAlertUsd");
    private static final Set<String> LIMIT_FIELDS = Set.of("id", "feature", "meter", "window", "scope", "max",
            "perSeat", "enforcement", "code", "alertAt");

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);
    private static final ObjectMapper YAML = YAMLMapper.builder()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS).build();

    private CatalogParser() {
    }

    public static PlanCatalog parse(String text, Format format) {
        JsonNode root;
        try {
            root = (format == Format.JSON ? JSON : YAML).readTree(text == null ? "" : text);
        } catch (JsonProcessingException e) {
            JsonLocation loc = e.getLocation();
            String where = loc == null ? "" : " at line " + loc.getLineNr() + ", column " + loc.getColumnNr();
            throw new CatalogValidationException(List.of(
                    "$: malformed " + format.name() + where + ": " + e.getOriginalMessage()));
        }
        return new Validation().catalog(root);
    }

    /** Collects problems while building; throws once at the end if there were any. */
    private static final class Validation {
        private final List<String> problems = new ArrayList<>();

        PlanCatalog catalog(JsonNode root) {
            if (root == null || root.isMissingNode() || root.isNull()) {
                throw new CatalogValidationException(List.of("$: the catalog is empty"));
            }
            if (!root.isObject()) {
                throw new CatalogValidationException(List.of("$: expected an object with defaultPlan and plans"));
            }
            unknownFields(root, ROOT_FIELDS, "");
            String defaultPlan = text(root, "defaultPlan", "defaultPlan", true);
            List<Plan> plans = new ArrayList<>();
            JsonNode plansNode = root.get("plans");
            if (plansNode == null || plansNode.isNull()) {
                problems.add("plans: required");
            } else if (!plansNode.isArray() || plansNode.isEmpty()) {
                problems.add("plans: expected a non-empty list of plans");
            } else {
                Set<String> ids = new HashSet<>();
                for (int i = 0; i < plansNode.size(); i++) {
                    Plan plan = plan(plansNode.get(i), "plans[" + i + "]");
                    String rawId = plansNode.get(i).path("id").asText("");
                    if (!rawId.isEmpty() && !ids.add(rawId)) {
                        problems.add("plans[" + i + "].id: duplicate plan id '" + rawId + "'");
                    }
                    if (plan != null) {
                        plans.add(plan);
                    }
                }
                if (defaultPlan != null && plans.stream().noneMatch(p -> p.id().equals(defaultPlan))
                        && problems.isEmpty()) {
                    problems.add("defaultPlan: unknown plan '" + defaultPlan + "'");
                }
            }
            if (!problems.isEmpty()) {
                throw new CatalogValidationException(problems);
            }
            return new PlanCatalog(defaultPlan, plans);
        }

        private Plan plan(JsonNode node, String path) {
            if (!node.isObject()) {
                problems.add(path + ": expected an object");
                return null;
            }
            unknownFields(node, PLAN_FIELDS, path + ".");
            String id = text(node, "id", path + ".id", true);
            if (id != null && !PLAN_ID.matcher(id).matches()) {
                problems.add(path + ".id: '" + id + "' must match " + PLAN_ID.pattern());
            }
            String name = text(node, "name", path + ".name", false);
            BigDecimal price = money(node, "priceUsd", path + ".priceUsd", BigDecimal.ZERO);
            Set<String> features = null;
            JsonNode featuresNode = node.get("features");
            if (featuresNode != null && !featuresNode.isNull()) {
                if (!featuresNode.isArray()) {
                    problems.add(path + ".features: expected a list of feature codes");
                } else {
                    features = new LinkedHashSet<>();
                    for (int i = 0; i < featuresNode.size(); i++) {
                        JsonNode f = featuresNode.get(i);
                        if (!f.isTextual() || !FEATURE_CODE.matcher(f.asText()).matches()) {
                            problems.add(path + ".features[" + i + "]: '" + f.asText()
                                    + "' is not a feature code " + FEATURE_CODE.pattern());
                        } else {
                            features.add(f.asText());
                        }
                    }
                }
            }
            boolean prepaid = bool(node, "prepaid", path + ".prepaid", false);
            BigDecimal minBalance = money(node, "minBalanceUsd", path + ".minBalanceUsd",
                    prepaid ? DEFAULT_MIN_BALANCE : BigDecimal.ZERO);
            BigDecimal welcome = money(node, "welcomeCreditUsd", path + ".welcomeCreditUsd", BigDecimal.ZERO);
            BigDecimal lowBalanceAlert = money(node, "lowBalanceAlertUsd", path + ".lowBalanceAlertUsd", null);
            List<PlanLimit> limits = new ArrayList<>();
            JsonNode limitsNode = node.get("limits");
            if (limitsNode != null && !limitsNode.isNull()) {
                if (!limitsNode.isArray()) {
                    problems.add(path + ".limits: expected a list of limits");
                } else {
                    Set<String> ids = new HashSet<>();
                    for (int i = 0; i < limitsNode.size(); i++) {
                        String lpath = path + ".limits[" + i + "]";
                        PlanLimit limit = limit(limitsNode.get(i), lpath);
                        String rawId = limitsNode.get(i).path("id").asText("");
                        if (!rawId.isEmpty() && !ids.add(rawId)) {
                            problems.add(lpath + ".id: duplicate limit id '" + rawId + "'");
                        } else if (limit != null) {
                            limits.add(limit);
                        }
                    }
                }
            }
            if (id == null) {
                return null;
            }
            return new Plan(id, name == null ? id : name, price, features, prepaid, minBalance, welcome, limits,
                    lowBalanceAlert);
        }

        private PlanLimit limit(JsonNode node, String path) {
            if (!node.isObject()) {
                problems.add(path + ": expected an object");
                return null;
            }
            int before = problems.size();
            unknownFields(node, LIMIT_FIELDS, path + ".");
            String id = text(node, "id", path + ".id", true);
            if (id != null && !LIMIT_ID.matcher(id).matches()) {
                problems.add(path + ".id: '" + id + "' must match " + LIMIT_ID.pattern());
            }
            String feature = text(node, "feature", path + ".feature", false);
            if (feature != null && !FEATURE_CODE.matcher(feature).matches()) {
                problems.add(path + ".feature: '" + feature + "' is not a feature code " + FEATURE_CODE.pattern());
            }
            Meter meter = null;
            String meterText = text(node, "meter", path + ".meter", true);
            if (meterText != null) {
                meter = Meter.fromWireName(meterText).orElse(null);
                if (meter == null) {
                    problems.add(path + ".meter: unknown meter '" + meterText + "' (expected one of "
                            + Arrays.stream(Meter.values()).map(Meter::wireName).toList() + ")");
                }
            }
            TimeWindow window = null;
            String windowText = text(node, "window", path + ".window", true);
            if (windowText != null) {
                window = TimeWindow.parse(windowText).orElse(null);
                if (window == null) {
                    problems.add(path + ".window: unknown window '" + windowText + "' (expected hour, day, month,"
                            + " billing_period, lifetime, rolling:<N>h up to " + TimeWindow.MAX_ROLLING_HOURS
                            + " or rolling:<N>d up to " + TimeWindow.MAX_ROLLING_DAYS + ")");
                }
            }
            LimitScope scope = LimitScope.ORG;
            String scopeText = text(node, "scope", path + ".scope", false);
            if (scopeText != null) {
                switch (scopeText) {
                    case "org": scope = LimitScope.ORG; break;
                    case "user": scope = LimitScope.USER; break;
                    case "conversation":
                        scope = LimitScope.CONVERSATION;
                        if (window != null && window.kind() != TimeWindow.Kind.LIFETIME) {
                            problems.add(path + ".window: a conversation-scope limit counts over the conversation's"
                                    + " whole life: use window: lifetime (got '" + windowText + "')");
                        }
                        break;
                    default:
                        problems.add(path + ".scope: unknown scope '" + scopeText + "' (expected org, user or conversation)");
                }
            }
            BigDecimal max = max(node.get("max"), path + ".max", meter);
            boolean perSeat = bool(node, "perSeat", path + ".perSeat", false);
            Enforcement enforcement = Enforcement.HARD;
            String enforcementText = text(node, "enforcement", path + ".enforcement", false);
            if (enforcementText != null) {
                switch (enforcementText) {
                    case "hard": enforcement = Enforcement.HARD; break;
                    case "soft": enforcement = Enforcement.SOFT; break;
                    default: problems.add(path + ".enforcement: unknown enforcement '" + enforcementText
                            + "' (expected hard or soft)");
                }
            }
            String code = text(node, "code", path + ".code", false);
            if (code != null && !ERROR_CODE.matcher(code).matches()) {
                problems.add(path + ".code: '" + code + "' must match " + ERROR_CODE.pattern());
            }
            List<BigDecimal> alertAt = AlertThresholds.parse(node.get("alertAt"), path + ".alertAt", problems);
            if (problems.size() > before) {
                return null;
            }
            return new PlanLimit(id, feature, meter, window, scope, max, perSeat, enforcement,
                    code != null ? code : PlanLimit.defaultCode(meter, window, scope), alertAt);
        }

        private BigDecimal max(JsonNode node, String path, Meter meter) {
            if (node == null || node.isNull()) {
                problems.add(path + ": required");
                return null;
            }
            BigDecimal value;
            try {
                value = decimal(node);
            } catch (NumberFormatException e) {
                problems.add(path + ": " + e.getMessage());
                return null;
            }
            if (value == null) {
                problems.add(path + ": '" + node.asText() + "' is not a "
                        + (meter != null && meter.isMoney() ? "decimal amount, e.g. \"20.00\"" : "whole number"));
                return null;
            }
            if (value.signum() < 0) {
                problems.add(path + ": must not be negative, got " + value.toPlainString());
                return null;
            }
            if (meter != null && !meter.isMoney() && value.stripTrailingZeros().scale() > 0) {
                problems.add(path + ": " + meter.wireName() + " needs a whole number, got " + value.toPlainString());
                return null;
            }
            if (value.stripTrailingZeros().scale() > MAX_SCALE || value.compareTo(MAX_AMOUNT) >= 0) {
                problems.add(path + ": " + value.toPlainString() + " is out of range (at most 9 decimals, below 1e15)");
                return null;
            }
            return meter != null && !meter.isMoney() ? value.setScale(0) : value;
        }

        private BigDecimal money(JsonNode parent, String field, String path, BigDecimal dflt) {
            JsonNode node = parent.get(field);
            if (node == null || node.isNull()) {
                return dflt;
            }
            BigDecimal value;
            try {
                value = decimal(node);
            } catch (NumberFormatException e) {
                problems.add(path + ": " + e.getMessage());
                return dflt;
            }
            if (value == null) {
                problems.add(path + ": '" + node.asText() + "' is not a decimal amount, e.g. \"10.00\"");
                return dflt;
            }
            if (value.signum() < 0) {
                problems.add(path + ": must not be negative, got " + value.toPlainString());
                return dflt;
            }
            if (value.stripTrailingZeros().scale() > MAX_SCALE || value.compareTo(MAX_AMOUNT) >= 0) {
                problems.add(path + ": " + value.toPlainString() + " is out of range (at most 9 decimals, below 1e15)");
                return dflt;
            }
            return value;
        }

        /** Null when not a decimal; {@link NumberFormatException} when one out of range. */
        private static BigDecimal decimal(JsonNode node) {
            if (node.isNumber()) {
                return InputBounds.decimal(node);
            }
            if (node.isTextual()) {
                String s = node.asText().trim();
                if (s.length() > InputBounds.MAX_DECIMAL_TEXT || !s.matches("[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)")) {
                    return null;
                }
                return InputBounds.decimal(s);
            }
            return null;
        }

        private String text(JsonNode parent, String field, String path, boolean required) {
            JsonNode node = parent.get(field);
            if (node == null || node.isNull()) {
                if (required) {
                    problems.add(path + ": required");
                }
                return null;
            }
            if (!node.isValueNode() || node.isBoolean() || node.asText().isBlank()) {
                problems.add(path + ": expected a non-empty string");
                return null;
            }
            String nul = InputBounds.textProblem(node.asText());
            if (nul != null) {
                problems.add(path + ": " + nul);
                return null;
            }
            return node.asText();
        }

        private boolean bool(JsonNode parent, String field, String path, boolean dflt) {
            JsonNode node = parent.get(field);
            if (node == null || node.isNull()) {
                return dflt;
            }
            if (!node.isBoolean()) {
                problems.add(path + ": expected true or false, got '" + node.asText() + "'");
                return dflt;
            }
            return node.booleanValue();
        }

        private void unknownFields(JsonNode node, Set<String> known, String prefix) {
            for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
                String name = it.next();
                if (!known.contains(name)) {
                    problems.add(prefix + name + ": unknown field (expected one of " + known.stream().sorted().toList() + ")");
                }
            }
        }
    }
}
