package dev.metering.app;

import dev.metering.api.audit.Actor;
import dev.metering.api.check.CatalogImpact;
import dev.metering.api.plan.CatalogParser;
import dev.metering.api.plan.Plan;
import dev.metering.api.plan.PlanCatalog;
import dev.metering.api.plan.PlanLimit;
import dev.metering.api.store.CreditRepository;
import dev.metering.api.store.PlanRepository;
import dev.metering.api.store.SubscriptionRepository;
import dev.metering.api.store.UsageRepository;
import dev.metering.events.config.ConfigSource;
import dev.metering.events.config.DbSettings;
import java.io.PrintStream;
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
            description = {"Validates a plan catalog (YAML or JSON, docs/contract.md, Plan catalog), prints its diff against the stored "
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
            ConfigSource config = DevAddresses.source();
            DbSettings db = DbSettings.from(config);
            config.throwIfInvalid();
            if (!Files.isReadable(file)) {
                throw new UserException("cannot read " + file);
            }
            String source = Files.readString(file, StandardCharsets.UTF_8);
            CatalogParser.Format format = file.toString().endsWith(".json") ? CatalogParser.Format.JSON
                    : CatalogParser.Format.YAML;
            try (Connection c = db.connect()) {
                return apply(DSL.using(c, SQLDialect.POSTGRES), file.getFileName().toString(), source, format, dryRun,
                        Clock.systemUTC().instant(), System.out);
            }
        }
    }

    /**
     * Validates {@code source}, prints its diff against the stored catalog and the orgs blocked
     * right now under each, then (unless a dry run) stores it as the next version; a catalog
     * equal to the stored one stores nothing.
     */
    static int apply(DSLContext dsl, String name, String source, CatalogParser.Format format, boolean dryRun,
                     Instant now, PrintStream out) {
        PlanCatalog next = CatalogParser.parse(source, format);
        PlanRepository plans = new PlanRepository(dsl);
        var stored = plans.latest();
        PlanCatalog current = stored.map(PlanRepository.StoredCatalog::catalog).orElse(PlanCatalog.unlimited());
        out.println("stored catalog: " + stored.map(s -> "version " + s.version()).orElse("none"));
        diff(current, next).forEach(out::println);
        CatalogImpact.Comparison impact = CatalogImpact.compare(current, next, plans, new SubscriptionRepository(dsl),
                new CreditRepository(dsl), new UsageRepository(dsl), now);
        out.printf("orgs blocked right now (a hard limit reached): %d of %d under the stored catalog, "
                + "%d of %d under %s%n", impact.before().blocked().size(), impact.before().orgs(),
                impact.after().blocked().size(), impact.after().orgs(), name);
        Set<String> newlyBlocked = impact.newlyBlocked();
        if (!newlyBlocked.isEmpty()) {
            out.println("newly blocked: " + newlyBlocked.stream().limit(20).collect(Collectors.joining(", "))
                    + (newlyBlocked.size() > 20 ? ", ..." : ""));
        }
        if (dryRun) {
            out.println("dry run: nothing stored");
            return 0;
        }
        Set<String> ids = next.plans().stream().map(Plan::id).collect(Collectors.toSet());
        Map<String, Integer> orphaned = plans.subscriptionsOnPlansOtherThan(ids);
        if (!orphaned.isEmpty()) {
            throw new UserException("the catalog drops plans still used by subscriptions: " + orphaned
                    + "; move those orgs first");
        }
        PlanRepository.Stored result = plans.store(next, format, source, Actor.tool("cli", now));
        out.println(result.created() ? "stored as version " + result.version()
                : "unchanged: version " + result.version() + " stays in force");
        return 0;
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
}
