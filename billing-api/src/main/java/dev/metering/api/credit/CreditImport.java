package dev.metering.api.credit;

import dev.metering.api.bulk.ImportRows;
import dev.metering.api.bulk.ImportRows.Problem;
import dev.metering.api.InputBounds;
import dev.metering.api.json.DecimalRule;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Validates credit import rows ({@code orgId,amountUsd,reason,expiresAt,grantId}) with the rules of
 * {@code POST /api/v1/orgs/{orgId}/credits} and sorts them against the grants already made under
 * the same (org, grantId): new ones are granted, equal ones are {@code unchanged} (a re-run grants
 * nothing twice), and one whose amount differs from the stored grant is invalid.
 */
public final class CreditImport {

    /** One grant to make, keyed by (orgId, grantId). */
    public record Grant(String orgId, String grantId, BigDecimal amountUsd, String reason, Instant expiresAt) {
    }

    /** {@code granted}: new grants (file order); {@code unchanged}: already granted under their grantId. */
    public record Result(int rows, List<Grant> granted, int unchanged, List<Problem> invalid) {

        public int valid() {
            return granted.size() + unchanged;
        }

        public BigDecimal grantedUsd() {
            return granted.stream().map(Grant::amountUsd).reduce(BigDecimal.ZERO, BigDecimal::add);
        }
    }

    static final String DEFAULT_REASON = "credit import";
    private static final int MAX_ID_LENGTH = 256;
    private static final int MAX_REASON_LENGTH = 500;

    private CreditImport() {
    }

    /** {@code stored}: the amounts already granted, by {@link #key(String, String)}. */
    public static Result validate(List<ImportRows.Row> rows, Map<String, BigDecimal> stored, Instant now) {
        List<Grant> granted = new ArrayList<>();
        List<Problem> invalid = new ArrayList<>();
        Map<String, Integer> firstLine = new HashMap<>();
        int unchanged = 0;
        for (ImportRows.Row row : rows) {
            if (row.problem() != null) {
                invalid.add(new Problem(row.line(), row.problemField(), row.problem()));
                continue;
            }
            Map<String, String> v = row.values();
            String problemField = null;
            String problem = null;
            String org = v.get("orgId");
            String grantId = v.get("grantId");
            BigDecimal amount = null;
            Instant expiresAt = null;
            if (org == null || org.length() > MAX_ID_LENGTH) {
                problemField = "orgId";
                problem = org == null ? "required" : "must be 1-" + MAX_ID_LENGTH + " characters";
            } else if (grantId == null || grantId.length() > MAX_ID_LENGTH) {
                problemField = "grantId";
                problem = grantId == null ? "required: it makes a re-run grant nothing twice"
                        : "must be 1-" + MAX_ID_LENGTH + " characters";
            } else if ((amount = amount(v.get("amountUsd"))) == null) {
                problemField = "amountUsd";
                problem = "'" + v.get("amountUsd") + "' is not a positive decimal amount below 1e15 with at most 9 "
                        + "decimals, e.g. 5.00";
            } else if (v.get("reason") != null && v.get("reason").length() > MAX_REASON_LENGTH) {
                problemField = "reason";
                problem = "must be at most " + MAX_REASON_LENGTH + " characters";
            } else if (v.get("expiresAt") != null && ((expiresAt = instant(v.get("expiresAt"))) == null
                    || !expiresAt.isAfter(now))) {
                problemField = "expiresAt";
                problem = expiresAt == null ? "'" + v.get("expiresAt") + "' is not an ISO-8601 instant"
                        : "must be in the future";
            } else {
                Integer earlier = firstLine.putIfAbsent(key(org, grantId), row.line());
                BigDecimal before = stored.get(key(org, grantId));
                if (earlier != null) {
                    problemField = "grantId";
                    problem = "grant '" + grantId + "' of org '" + org + "' is already on line " + earlier;
                } else if (before != null && before.compareTo(amount) != 0) {
                    problemField = "amountUsd";
                    problem = "grant '" + grantId + "' was already made with amountUsd " + before.stripTrailingZeros()
                            .toPlainString() + "; a grant is never changed";
                } else if (before != null) {
                    unchanged++;
                    continue;
                }
            }
            if (problem != null) {
                invalid.add(new Problem(row.line(), problemField, problem));
                continue;
            }
            String reason = v.get("reason");
            granted.add(new Grant(org, grantId, amount, reason == null ? DEFAULT_REASON : reason, expiresAt));
        }
        return new Result(rows.size(), granted, unchanged, invalid);
    }

    public static String key(String orgId, String grantId) {
        return orgId + '\u0000' + grantId;
    }

    private static BigDecimal amount(String text) {
        DecimalRule.Parsed amount = text == null ? null : DecimalRule.POSITIVE_AMOUNT.read(text);
        return amount == null || !amount.ok() ? null : amount.value();
    }

    private static Instant instant(String text) {
        try {
            Instant t = Instant.parse(text);
            return InputBounds.instantProblem(t) == null ? t : null;
        } catch (DateTimeParseException e) {
            return null;
        }
    }
}
