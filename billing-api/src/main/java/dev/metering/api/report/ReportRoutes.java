package dev.metering.api.report;

import dev.metering.api.ApiException;
import dev.metering.api.InputBounds;
import dev.metering.api.account.BillingService;
import dev.metering.api.auth.Scope;
import dev.metering.api.csv.Csv;
import dev.metering.api.check.LimitStatus;
import dev.metering.api.check.LimitsReport;
import dev.metering.api.http.Auth;
import dev.metering.api.http.RouteModule;
import dev.metering.api.plan.Enforcement;
import dev.metering.api.plan.LimitScope;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code GET /api/v1/usage/{orgId}/report} (admin, or the org's key with {@code read}): totals
 * per period and group, JSON or, with {@code Accept: text/csv}, CSV streamed row by row.
 * {@code GET /api/v1/reports/top-orgs} (admin): orgs ranked by cost, tokens or events over whole
 * UTC days, optionally only one plan's orgs ({@code plan=}) and only orgs at or above a fraction
 * of a hard org limit in its current window ({@code nearLimit=0.9}).
 * {@code GET /api/v1/reports/check-outcomes} (admin): checks, blocks and would-be blocks per UTC
 * day over all orgs, with the block rate.
 */
public final class ReportRoutes implements RouteModule {

    private static final int MAX_TOP = 1000;
    /** nearLimit ranks this many orgs of the range, then evaluates their limits. */
    private static final int NEAR_LIMIT_CANDIDATES = 1000;

    private final ReportRepository repository;
    private final BillingService billing;

    public ReportRoutes(ReportRepository repository, BillingService billing) {
        this.repository = repository;
        this.billing = billing;
    }

    @Override
    public void register(Javalin app, Auth auth) {
        app.get("/api/v1/usage/{orgId}/report", ctx -> report(ctx, auth));
        app.get("/api/v1/reports/top-orgs", ctx -> topOrgs(ctx, auth));
        app.get("/api/v1/reports/check-outcomes", ctx -> checkOutcomes(ctx, auth));
    }

    private void report(Context ctx, Auth auth) {
        String org = ctx.pathParam("orgId");
        auth.requireOrg(ctx, org, Scope.READ);
        if (org.isBlank() || org.length() > 256) {
            throw ApiException.badRequest("orgId", "must be 1-256 characters");
        }
        if (InputBounds.textProblem(org) != null) {
            throw ApiException.badRequest("orgId", InputBounds.textProblem(org));
        }
        ReportQuery q = ReportQuery.parse(org, ctx.queryParam("from"), ctx.queryParam("to"),
                ctx.queryParam("granularity"), ctx.queryParam("groupBy"));
        String accept = ctx.header("Accept");
        if (accept != null && accept.toLowerCase(Locale.ROOT).contains("text/csv")) {
            csv(ctx, q);
            return;
        }
        List<Map<String, Object>> rows = new ArrayList<>();
        long[] sums = new long[8];
        BigDecimal[] cost = {BigDecimal.ZERO};
        repository.report(q, r -> {
            rows.add(json(q, r));
            sums[0] += r.events();
            sums[1] += r.quantity();
            sums[2] += r.inputTokens();
            sums[3] += r.outputTokens();
            sums[4] += r.cachedInputTokens();
            sums[5] += r.unpricedEvents();
            sums[6] += r.cacheWriteTokens();
            sums[7] += r.reasoningTokens();
            cost[0] = cost[0].add(r.costUsd());
        });
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("orgId", org);
        out.put("from", q.from().toString());
        out.put("to", q.to().toString());
        out.put("granularity", q.granularity().wireName());
        out.put("groupBy", q.groupBy());
        out.put("rows", rows);
        out.put("totals", totals(new ReportRow(null, null, null, null, null, sums[0], sums[1], sums[2], sums[3],
                sums[4], sums[5], cost[0], sums[6], sums[7])));
        ctx.json(out);
    }

    private static Map<String, Object> json(ReportQuery q, ReportRow r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("period", r.period().toString());
        if (q.groups("feature")) {
            m.put("feature", r.feature());
        }
        if (q.groups("model")) {
            m.put("provider", r.provider());
            m.put("model", r.model());
        }
        if (q.groups("user")) {
            m.put("userId", r.userId());
        }
        m.putAll(totals(r));
        return m;
    }

    private static Map<String, Object> totals(ReportRow r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("events", r.events());
        m.put("quantity", r.quantity());
        m.put("inputTokens", r.inputTokens());
        m.put("outputTokens", r.outputTokens());
        m.put("cachedInputTokens", r.cachedInputTokens());
        m.put("cacheWriteTokens", r.cacheWriteTokens());
        m.put("reasoningTokens", r.reasoningTokens());
        m.put("tokens", r.tokens());
        m.put("unpricedEvents", r.unpricedEvents());
        m.put("costUsd", money(r.costUsd()));
        return m;
    }

    private void csv(Context ctx, ReportQuery q) {
        ctx.contentType("text/csv; charset=utf-8");
        ctx.header("Content-Disposition", "attachment; filename=\"usage-report.csv\"");
        List<String> header = new ArrayList<>(List.of("period"));
        if (q.groups("feature")) {
            header.add("feature");
        }
        if (q.groups("model")) {
            header.add("provider");
            header.add("model");
        }
        if (q.groups("user")) {
            header.add("user_id");
        }
        header.addAll(List.of("events", "quantity", "input_tokens", "output_tokens", "cached_input_tokens", "tokens",
                "unpriced_events", "cost_usd"));
        try (Writer w = new BufferedWriter(new OutputStreamWriter(ctx.outputStream(), StandardCharsets.UTF_8))) {
            w.write(Csv.line(header));
            repository.report(q, r -> {
                List<String> line = new ArrayList<>(List.of(r.period().toString()));
                if (q.groups("feature")) {
                    line.add(r.feature());
                }
                if (q.groups("model")) {
                    line.add(r.provider());
                    line.add(r.model());
                }
                if (q.groups("user")) {
                    line.add(r.userId());
                }
                for (long n : new long[] {r.events(), r.quantity(), r.inputTokens(), r.outputTokens(),
                        r.cachedInputTokens(), r.tokens(), r.unpricedEvents()}) {
                    line.add(Long.toString(n));
                }
                line.add(money(r.costUsd()));
                try {
                    w.write(Csv.line(line));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String money(BigDecimal d) {
        return d == null || d.signum() == 0 ? "0" : d.stripTrailingZeros().toPlainString();
    }

    // ---- top orgs

    private void topOrgs(Context ctx, Auth auth) {
        auth.requireAdmin(ctx);
        Instant from = ReportQuery.instant("from", ctx.queryParam("from"));
        Instant to = ReportQuery.instant("to", ctx.queryParam("to"));
        ReportQuery.aligned("from", from, ReportQuery.Granularity.DAY);
        ReportQuery.aligned("to", to, ReportQuery.Granularity.DAY);
        if (!to.isAfter(from)) {
            throw ApiException.badRequest("to", "must be after from");
        }
        if (Duration.between(from, to).compareTo(Duration.ofDays(366)) > 0) {
            throw ApiException.badRequest("to", "top-orgs covers at most 366 days");
        }
        String by = ctx.queryParam("by") == null ? "cost" : ctx.queryParam("by");
        if (!List.of("cost", "tokens", "events").contains(by)) {
            throw ApiException.badRequest("by", "'" + by + "' is not one of cost, tokens, events");
        }
        int limit = 20;
        String limitText = ctx.queryParam("limit");
        if (limitText != null) {
            try {
                limit = Integer.parseInt(limitText);
            } catch (NumberFormatException e) {
                throw ApiException.badRequest("limit", "'" + limitText + "' is not a whole number");
            }
            if (limit < 1 || limit > MAX_TOP) {
                throw ApiException.badRequest("limit", "must be 1-" + MAX_TOP + ", got " + limit);
            }
        }
        String plan = ctx.queryParam("plan");
        if (plan != null && plan.isBlank()) {
            plan = null;
        }
        if (plan != null && (plan.length() > 256 || InputBounds.textProblem(plan) != null)) {
            throw ApiException.badRequest("plan", "must be at most 256 characters, without NUL");
        }
        BigDecimal nearLimit = null;
        String nearText = ctx.queryParam("nearLimit");
        if (nearText != null && !nearText.isEmpty()) {
            try {
                nearLimit = InputBounds.decimal(nearText);
            } catch (NumberFormatException e) {
                throw ApiException.badRequest("nearLimit", "'" + nearText + "' " + e.getMessage() + ", e.g. 0.9");
            }
            if (nearLimit.signum() <= 0 || nearLimit.compareTo(BigDecimal.ONE) > 0) {
                throw ApiException.badRequest("nearLimit", "must be above 0 and at most 1, got " + nearText);
            }
        }
        String defaultPlan = billing.catalog().catalog().defaultPlanId();
        List<ReportRepository.OrgTotals> ranked = repository.topOrgs(from.atOffset(ZoneOffset.UTC),
                to.atOffset(ZoneOffset.UTC), by, plan, defaultPlan, nearLimit == null ? limit : NEAR_LIMIT_CANDIDATES);
        List<Map<String, Object>> orgs = new ArrayList<>();
        for (ReportRepository.OrgTotals t : ranked) {
            if (orgs.size() >= limit) {
                break;
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("orgId", t.orgId());
            m.put("plan", t.planId());
            m.put("events", t.events());
            m.put("quantity", t.quantity());
            m.put("tokens", t.tokens());
            m.put("costUsd", money(t.costUsd()));
            if (nearLimit != null) {
                Map<String, Object> nearest = nearestLimit(t.orgId());
                if (nearest == null || ((BigDecimal) nearest.get("ratio")).compareTo(nearLimit) < 0) {
                    continue;
                }
                nearest.put("ratio", ((BigDecimal) nearest.get("ratio")).toPlainString());
                m.put("nearestLimit", nearest);
            }
            orgs.add(m);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("from", from.toString());
        out.put("to", to.toString());
        out.put("by", by);
        out.put("plan", plan);
        out.put("nearLimit", nearLimit == null ? null : nearLimit.toPlainString());
        out.put("orgs", orgs);
        ctx.json(out);
    }

    /** The hard org-scoped limit the org is closest to in its current window (used / limit), or null. */
    private Map<String, Object> nearestLimit(String org) {
        LimitsReport report = billing.limits(org, null);
        LimitStatus best = null;
        BigDecimal bestRatio = null;
        for (LimitStatus s : report.limits()) {
            if (s.definition().enforcement() != Enforcement.HARD || s.definition().scope() != LimitScope.ORG
                    || s.limit() == null || s.limit().signum() <= 0) {
                continue;
            }
            BigDecimal ratio = s.used().divide(s.limit(), new MathContext(6, RoundingMode.DOWN));
            if (bestRatio == null || ratio.compareTo(bestRatio) > 0) {
                best = s;
                bestRatio = ratio;
            }
        }
        if (best == null) {
            return null;
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", best.definition().id());
        m.put("window", best.definition().window().toString());
        m.put("used", money(best.used()));
        m.put("limit", money(best.limit()));
        m.put("resetsAt", best.resetsAt() == null ? null : best.resetsAt().toString());
        m.put("ratio", bestRatio.stripTrailingZeros());
        return m;
    }

    // ---- check outcomes

    private void checkOutcomes(Context ctx, Auth auth) {
        auth.requireAdmin(ctx);
        Instant from = ReportQuery.instant("from", ctx.queryParam("from"));
        Instant to = ReportQuery.instant("to", ctx.queryParam("to"));
        ReportQuery.aligned("from", from, ReportQuery.Granularity.DAY);
        ReportQuery.aligned("to", to, ReportQuery.Granularity.DAY);
        if (!to.isAfter(from)) {
            throw ApiException.badRequest("to", "must be after from");
        }
        if (Duration.between(from, to).compareTo(Duration.ofDays(366)) > 0) {
            throw ApiException.badRequest("to", "check-outcomes covers at most 366 days");
        }
        List<Map<String, Object>> days = new ArrayList<>();
        for (ReportRepository.DayOutcomes d : repository.checkOutcomes(LocalDate.ofInstant(from, ZoneOffset.UTC),
                LocalDate.ofInstant(to, ZoneOffset.UTC))) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("day", d.day().toString());
            m.put("checks", d.checks());
            m.put("allowed", d.allowed());
            m.put("blocked", d.blocked());
            m.put("wouldBlock", d.wouldBlock());
            m.put("blockRate", d.checks() == 0 ? "0" : BigDecimal.valueOf(d.blocked())
                    .divide(BigDecimal.valueOf(d.checks()), 4, RoundingMode.HALF_UP).toPlainString());
            days.add(m);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("from", from.toString());
        out.put("to", to.toString());
        out.put("days", days);
        ctx.json(out);
    }
}
