package dev.metering.api.plan;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.metering.api.json.DecimalRule;
import dev.metering.api.json.JsonFields;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
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
    private static final DecimalRule LIMIT = DecimalRule.AMOUNT.describedAs("'%s' is not a decimal amount, e.g. \"20.00\"");
    private static final DecimalRule COUNT = DecimalRule.AMOUNT.describedAs("'%s' is not a whole number");

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
            JsonFields f = fields(root, "");
            f.onlyFields(ROOT_FIELDS, JsonFields.oneOf(ROOT_FIELDS));
            String defaultPlan = f.scalarText("defaultPlan", true);
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
            JsonFields f = fields(node, path + ".");
            f.onlyFields(PLAN_FIELDS, JsonFields.oneOf(PLAN_FIELDS));
            String id = f.scalarText("id", true);
            if (id != null && !PLAN_ID.matcher(id).matches()) {
                problems.add(path + ".id: '" + id + "' must match " + PLAN_ID.pattern());
            }
            String name = f.scalarText("name", false);
            BigDecimal price = f.decimal("priceUsd", DecimalRule.AMOUNT, BigDecimal.ZERO);
            Set<String> features = null;
            JsonNode featuresNode = node.get("features");
            if (featuresNode != null && !featuresNode.isNull()) {
                if (!featuresNode.isArray()) {
                    problems.add(path + ".features: expected a list of feature codes");
                } else {
                    features = new LinkedHashSet<>();
                    for (int i = 0; i < featuresNode.size(); i++) {
                        JsonNode code = featuresNode.get(i);
                        if (!code.isTextual() || !FEATURE_CODE.matcher(code.asText()).matches()) {
                            problems.add(path + ".features[" + i + "]: '" + code.asText()
                                    + "' is not a feature code " + FEATURE_CODE.pattern());
                        } else {
                            features.add(code.asText());
                        }
                    }
                }
            }
            boolean prepaid = f.bool("prepaid", false);
            BigDecimal minBalance = f.decimal("minBalanceUsd", DecimalRule.AMOUNT, prepaid ? DEFAULT_MIN_BALANCE : BigDecimal.ZERO);
            BigDecimal welcome = f.decimal("welcomeCreditUsd", DecimalRule.AMOUNT, BigDecimal.ZERO);
            BigDecimal lowBalanceAlert = f.decimal("lowBalanceAlertUsd", DecimalRule.AMOUNT, null);
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
            JsonFields f = fields(node, path + ".");
            f.onlyFields(LIMIT_FIELDS, JsonFields.oneOf(LIMIT_FIELDS));
            String id = f.scalarText("id", true);
            if (id != null && !LIMIT_ID.matcher(id).matches()) {
                problems.add(path + ".id: '" + id + "' must match " + LIMIT_ID.pattern());
            }
            String feature = f.scalarText("feature", false);
            if (feature != null && !FEATURE_CODE.matcher(feature).matches()) {
                problems.add(path + ".feature: '" + feature + "' is not a feature code " + FEATURE_CODE.pattern());
            }
            Meter meter = null;
            String meterText = f.scalarText("meter", true);
            if (meterText != null) {
                meter = Meter.fromWireName(meterText).orElse(null);
                if (meter == null) {
                    problems.add(path + ".meter: unknown meter '" + meterText + "' (expected one of "
                            + Arrays.stream(Meter.values()).map(Meter::wireName).toList() + ")");
                }
            }
            TimeWindow window = null;
            String windowText = f.scalarText("window", true);
            if (windowText != null) {
                window = TimeWindow.parse(windowText).orElse(null);
                if (window == null) {
                    problems.add(path + ".window: unknown window '" + windowText + "' (expected hour, day, month,"
                            + " billing_period, lifetime, rolling:<N>h up to " + TimeWindow.MAX_ROLLING_HOURS
                            + " or rolling:<N>d up to " + TimeWindow.MAX_ROLLING_DAYS + ")");
                }
            }
            LimitScope scope = LimitScope.ORG;
            String scopeText = f.scalarText("scope", false);
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
            BigDecimal max = max(f, meter);
            boolean perSeat = f.bool("perSeat", false);
            Enforcement enforcement = Enforcement.HARD;
            String enforcementText = f.scalarText("enforcement", false);
            if (enforcementText != null) {
                switch (enforcementText) {
                    case "hard": enforcement = Enforcement.HARD; break;
                    case "soft": enforcement = Enforcement.SOFT; break;
                    default: problems.add(path + ".enforcement: unknown enforcement '" + enforcementText
                            + "' (expected hard or soft)");
                }
            }
            String code = f.scalarText("code", false);
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

        /** A limit's {@code max}: an amount for {@code cost_usd}, a whole number for the counting meters. */
        private BigDecimal max(JsonFields f, Meter meter) {
            if (f.get("max") == null) {
                problems.add(f.path("max") + ": required");
                return null;
            }
            boolean count = meter != null && !meter.isMoney();
            BigDecimal value = f.decimal("max", count ? COUNT : LIMIT, null);
            if (value != null && count && value.stripTrailingZeros().scale() > 0) {
                problems.add(f.path("max") + ": " + meter.wireName() + " needs a whole number, got " + value.toPlainString());
                return null;
            }
            return value != null && count ? value.setScale(0) : value;
        }

        private JsonFields fields(JsonNode node, String prefix) {
            return new JsonFields(node, prefix, JsonFields.collectInto(problems));
        }
    }
}
