package dev.metering.app;

import dev.metering.api.check.BillingAccount;
import dev.metering.api.check.CheckEvaluator;
import dev.metering.api.check.EnforcementMode;
import dev.metering.api.check.Freshness;
import dev.metering.api.check.LimitStatus;
import dev.metering.api.check.ModePolicy;
import dev.metering.api.check.StalePolicy;
import dev.metering.api.plan.CatalogParser;
import dev.metering.api.plan.Enforcement;
import dev.metering.api.plan.Plan;
import dev.metering.api.plan.PlanCatalog;
import dev.metering.api.plan.PlanLimit;
import dev.metering.api.store.CreditRepository;
import dev.metering.api.store.PlanRepository;
import dev.metering.api.store.SubscriptionRepository;
import dev.metering.api.store.UsageRepository;
import dev.metering.api.subscription.Subscription;
import dev.metering.events.config.ConfigSource;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.jooq.DSLContext;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "plans", mixinStandardHelpOptions = true, description = "Manages the plan catalog (plans as code).",
        subcommands = PlansCommand.Apply.class)
final class PlansCommand implements Runnable {

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "apply", mixinStandardHelpOptions = true,
            description = {"Validates a plan catalog (YAML or JSON, DESIGN.md §7.2), prints its diff against the stored "
                    + "catalog and how many orgs are blocked right now under each, then stores it as the next version "
                    + "(the running API picks it up within a second). --dry-run stores nothing.",
                "Configuration: METERING_DB_URL (required), METERING_DB_USER, METERING_DB_PASSWORD."})
    static final class Apply implements Callable<Integer> {

        @Parameters(index = "0", paramLabel = "FILE", description = "the catalog, e.g. examples/000-chat-rate-limiting.yaml")
        Path file;

        @Option(names = "--dry-run", description = "print the diff and the impact, store nothing")
        boolean dryRun;

        @Override
        public Integer call() throws Exception {
            Db db = Db.from(ConfigSource.fromEnvironment());
            if (!Files.isReadable(file)) {
                throw new UserException("cannot read " + file);
            }
            String source = Files.readString(file, StandardCharsets.UTF_8);
            CatalogParser.Format format = file.toString().endsWith(".json") ? CatalogParser.Format.JSON
                    : CatalogParser.Format.YAML;
            PlanCatalog next = CatalogParser.parse(source, format);
            try (Connection c = db.connect()) {
                DSLContext dsl = DSL.using(c, SQLDialect.POSTGRES);
                PlanRepository plans = new PlanRepository(dsl);
                var stored = plans.latest();
                PlanCatalog current = stored.map(PlanRepository.StoredCatalog::catalog).orElse(PlanCatalog.unlimited());
                System.out.println("stored catalog: " + stored.map(s -> "version " + s.version()).orElse("none"));
                diff(current, next).forEach(System.out::println);
                Instant now = Clock.systemUTC().instant();
                Impact before = impact(dsl, current, now);
                Impact after = impact(dsl, next, now);
                System.out.printf("orgs blocked right now (a hard limit reached): %d of %d under the stored catalog, "
                        + "%d of %d under %s%n", before.blocked().size(), before.orgs(), after.blocked().size(),
                        after.orgs(), file.getFileName());
                Set<String> newlyBlocked = new TreeSet<>(after.blocked());
                newlyBlocked.removeAll(before.blocked());
                if (!newlyBlocked.isEmpty()) {
                    System.out.println("newly blocked: " + newlyBlocked.stream().limit(20).collect(Collectors.joining(", "))
                            + (newlyBlocked.size() > 20 ? ", ..." : ""));
                }
                if (dryRun) {
                    System.out.println("dry run: nothing stored");
                    return 0;
                }
                Set<String> ids = next.plans().stream().map(Plan::id).collect(Collectors.toSet());
                Map<String, Integer> orphaned = plans.subscriptionsOnPlansOtherThan(ids);
                if (!orphaned.isEmpty()) {
                    throw new UserException("the catalog drops plans still used by subscriptions: " + orphaned
                            + "; move those orgs first");
                }
                long version = plans.store(next, format, source, "cli", now);
                System.out.println("stored as version " + version);
                return 0;
            }
        }
    }

    /** Human-readable differences, one line each; "no changes" when equal. */
    static List<String> diff(PlanCatalog current, PlanCatalog next) {
        List<String> out = new ArrayList<>();
        if (!current.defaultPlanId().equals(next.defaultPlanId())) {
            out.add("  default plan: " + current.defaultPlanId() + " -> " + next.defaultPlanId());
        }
        Set<String> ids = new LinkedHashSet<>();
        current.plans().forEach(p -> ids.add(p.id()));
        next.plans().forEach(p -> ids.add(p.id()));
        for (String id : ids) {
            Plan a = current.plan(id).orElse(null);
            Plan b = next.plan(id).orElse(null);
            if (a == null) {
                out.add("+ plan " + id + ": " + b.limits().stream().map(PlansCommand::describe).collect(Collectors.joining("; ")));
            } else if (b == null) {
                out.add("- plan " + id);
            } else if (!a.equals(b)) {
                out.add("~ plan " + id + ":");
                if (!java.util.Objects.equals(a.features(), b.features())) {
                    out.add("    features: " + a.features() + " -> " + b.features());
                }
                if (a.prepaid() != b.prepaid() || a.minBalanceUsd().compareTo(b.minBalanceUsd()) != 0) {
                    out.add("    prepaid: " + a.prepaid() + " (min $" + a.minBalanceUsd().toPlainString() + ") -> "
                            + b.prepaid() + " (min $" + b.minBalanceUsd().toPlainString() + ")");
                }
                Map<String, PlanLimit> la = byId(a.limits());
                Map<String, PlanLimit> lb = byId(b.limits());
                Set<String> limitIds = new LinkedHashSet<>(la.keySet());
                limitIds.addAll(lb.keySet());
                for (String lid : limitIds) {
                    PlanLimit x = la.get(lid);
                    PlanLimit y = lb.get(lid);
                    if (x == null) {
                        out.add("    + " + describe(y));
                    } else if (y == null) {
                        out.add("    - " + describe(x));
                    } else if (!describe(x).equals(describe(y))) {
                        out.add("    ~ " + describe(x) + "  ->  " + describe(y));
                    }
                }
            }
        }
        if (out.isEmpty()) {
            out.add("  no changes");
        }
        return out;
    }

    static String describe(PlanLimit l) {
        return l.id() + " " + (l.feature() == null ? "*" : l.feature()) + " " + l.meter().wireName() + "/" + l.window()
                + "/" + l.scope().wireName() + " max " + l.max().toPlainString() + (l.perSeat() ? " per seat" : "")
                + " " + l.enforcement().wireName();
    }

    private static Map<String, PlanLimit> byId(List<PlanLimit> limits) {
        Map<String, PlanLimit> m = new LinkedHashMap<>();
        limits.forEach(l -> m.put(l.id(), l));
        return m;
    }

    record Impact(int orgs, Set<String> blocked) {
    }

    /**
     * Orgs with a subscription or usage in the last 35 days whose org-scoped hard limits are reached
     * now under {@code catalog}, evaluated by the billing API's own {@link CheckEvaluator}.
     */
    static Impact impact(DSLContext dsl, PlanCatalog catalog, Instant now) {
        Set<String> orgs = new TreeSet<>(dsl.fetch("SELECT org_id FROM metering.subscriptions UNION "
                + "SELECT DISTINCT org_id FROM metering.org_usage_daily WHERE window_start >= now() - interval '35 days'")
                .getValues(0, String.class));
        SubscriptionRepository subscriptions = new SubscriptionRepository(dsl);
        CreditRepository credits = new CreditRepository(dsl);
        UsageRepository usage = new UsageRepository(dsl);
        CheckEvaluator evaluator = new CheckEvaluator(new ModePolicy(EnforcementMode.ENFORCE, 0), StalePolicy.FAIL_OPEN);
        Set<String> blocked = new TreeSet<>();
        for (String org : orgs) {
            Subscription sub = subscriptions.find(org).orElse(null);
            Plan plan = sub == null ? catalog.defaultPlan() : catalog.plan(sub.planId()).orElse(catalog.defaultPlan());
            BillingAccount account = new BillingAccount(org, plan, sub, credits.unexpired(org, now));
            var report = evaluator.limits(account, null, usage, Freshness.fresh(now), now);
            boolean hit = report.limits().stream().anyMatch((LimitStatus s) -> s.remaining().signum() <= 0
                    && s.definition().enforcement() == Enforcement.HARD);
            if (hit) {
                blocked.add(org);
            }
        }
        return new Impact(orgs.size(), blocked);
    }
}
