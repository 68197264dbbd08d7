package dev.metering.api.alert;

import dev.metering.api.account.AccountCache;
import dev.metering.api.account.BillingService;
import dev.metering.api.plan.Plan;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * What the alert detector evaluates in a pass: orgs whose usage changed since the previous pass
 * (hourly rows: org and user limits; conversation totals: conversation limits), orgs whose
 * subscription or credit grants changed (a lowered override or a new plan can put usage past a
 * threshold without new usage), and, after a catalog change, every org on a changed plan, in
 * slices of {@link #SWEEP_SLICE} per pass.
 *
 * <p>Usage is followed by {@code updated_at} watermarks, each the newest seen minus an overlap for
 * sink transactions that commit late (all of it every {@link #FULL_OVERLAP_EVERY} passes, a
 * short one in between); within the overlap, a row already evaluated at the same
 * {@code updated_at} is not taken again. At the first pass it takes usage of windows from the
 * look-back on. Subscription and grant changes are followed by their {@code revision} (one
 * sequence), looking back {@link #REVISION_LOOKBACK} revisions for writes that commit out of
 * order, as the account cache does. Used by one pass at a time.
 */
final class ChangeFeed {

    static final Duration OVERLAP = Duration.ofSeconds(30);
    /**
     * Most passes look back only this far: re-reading the whole overlap every pass costs a pass
     * as many rows as 30 s of changes; every {@link #FULL_OVERLAP_EVERY}-th pass reads all of it.
     */
    static final Duration SHORT_OVERLAP = Duration.ofSeconds(2);
    static final int FULL_OVERLAP_EVERY = 20;
    static final int MAX_CHANGES_PER_PASS = 50_000;
    static final int REVISION_LOOKBACK = 256;
    static final int SWEEP_SLICE = 1_000;

    /** What to evaluate of one org; {@code whole}: also its recent users and conversations. */
    static final class Work {
        final Set<String> users = new LinkedHashSet<>();
        final Set<String> conversations = new LinkedHashSet<>();
        final Map<String, Instant> rows = new HashMap<>();
        boolean whole;
    }

    /** A catalog change being swept: the changed plans and the last org id done. */
    private record Sweep(List<String> planIds, String defaultPlanId, String after) {
    }

    private final BillingService service;
    private final AlertRepository repository;
    private Instant usageWatermark;
    private Instant conversationWatermark;
    /** Usage rows (org and user, or org and conversation) evaluated within the overlap, by updated_at. */
    private final Map<String, Instant> evaluated = new HashMap<>();
    private Long revision;
    private final Set<Long> handledRevisions = new HashSet<>();
    private AccountCache.CatalogState catalog;
    private Sweep sweep;
    private long passes;

    ChangeFeed(BillingService service, AlertRepository repository) {
        this.service = service;
        this.repository = repository;
    }

    /** The orgs to evaluate now, usage of windows from {@code windowsFrom} on. */
    Map<String, Work> next(Instant windowsFrom) {
        Map<String, Work> orgs = new LinkedHashMap<>();
        Duration overlap = passes++ % FULL_OVERLAP_EVERY == 0 ? OVERLAP : SHORT_OVERLAP;
        Instant newest = usageWatermark;
        for (AlertRepository.Changed c : repository.changedUsage(windowsFrom, since(usageWatermark, overlap),
                MAX_CHANGES_PER_PASS)) {
            newest = later(newest, c.updatedAt());
            take(orgs, c.orgId(), "u" + c.userId(), c.updatedAt()).users.add(c.userId());
        }
        usageWatermark = newest;
        newest = conversationWatermark;
        for (AlertRepository.ChangedConversation c : repository.changedConversations(windowsFrom,
                since(conversationWatermark, overlap), MAX_CHANGES_PER_PASS)) {
            newest = later(newest, c.updatedAt());
            take(orgs, c.orgId(), "c" + c.conversationId(), c.updatedAt()).conversations.add(c.conversationId());
        }
        conversationWatermark = newest;
        orgChanges(orgs);
        catalogChanges(orgs);
        return orgs;
    }

    /** The org's rows of {@code work} were evaluated: not taken again at the same updated_at. */
    synchronized void evaluated(Work work) {
        evaluated.putAll(work.rows);
    }

    /**
     * At the end of a pass: forgets rows older than the overlap, at full passes only (a row kept
     * longer is only skipped again at the same updated_at; a sweep of every row per pass is not).
     */
    synchronized void passDone() {
        if ((passes - 1) % FULL_OVERLAP_EVERY != 0) {
            return;
        }
        Instant a = usageWatermark;
        Instant b = conversationWatermark;
        Instant oldest = a == null ? b : b == null ? a : a.isBefore(b) ? a : b;
        if (oldest != null) {
            Instant forgetBefore = oldest.minus(OVERLAP);
            evaluated.values().removeIf(t -> t.isBefore(forgetBefore));
        }
    }

    private synchronized Work take(Map<String, Work> orgs, String orgId, String row, Instant updatedAt) {
        String key = orgId + "\u0000" + row;
        if (updatedAt.equals(evaluated.get(key))) {
            return new Work();
        }
        Work w = orgs.computeIfAbsent(orgId, o -> new Work());
        w.rows.put(key, updatedAt);
        return w;
    }

    private static Instant since(Instant watermark, Duration overlap) {
        return watermark == null ? null : watermark.minus(overlap);
    }

    private static Instant later(Instant a, Instant b) {
        return a == null || b.isAfter(a) ? b : a;
    }

    /**
     * Orgs whose subscription or grants changed, made through any instance: their cached account
     * is dropped first, so the evaluation reads what was just written.
     */
    private void orgChanges(Map<String, Work> orgs) {
        if (revision == null) {
            // changes before the start are not evaluated again; usage is (the look-back)
            revision = repository.latestOrgRevision();
            repository.orgChangesAfter(Math.max(0, revision - REVISION_LOOKBACK), MAX_CHANGES_PER_PASS)
                    .forEach(c -> handledRevisions.add(c.revision()));
            return;
        }
        for (AlertRepository.OrgChange c : repository.orgChangesAfter(Math.max(0, revision - REVISION_LOOKBACK),
                MAX_CHANGES_PER_PASS)) {
            if (handledRevisions.add(c.revision())) {
                service.cache().invalidateOrg(c.orgId());
                orgs.computeIfAbsent(c.orgId(), o -> new Work()).whole = true;
                revision = Math.max(revision, c.revision());
            }
        }
        long floor = revision - REVISION_LOOKBACK;
        handledRevisions.removeIf(r -> r <= floor);
    }

    /** A new catalog version: every org on a plan whose definition changed, a slice per pass. */
    private void catalogChanges(Map<String, Work> orgs) {
        AccountCache.CatalogState current = service.catalog();
        if (catalog == null) {
            catalog = current;
            return;
        }
        if (current.version() != catalog.version()) {
            List<String> changed = new ArrayList<>();
            for (Plan p : current.catalog().plans()) {
                boolean newDefault = p.id().equals(current.catalog().defaultPlanId())
                        && !p.id().equals(catalog.catalog().defaultPlanId());
                if (newDefault || !catalog.catalog().plan(p.id()).equals(Optional.of(p))) {
                    changed.add(p.id());
                }
            }
            catalog = current;
            sweep = changed.isEmpty() ? null : new Sweep(changed, current.catalog().defaultPlanId(), "");
        }
        if (sweep != null) {
            List<String> slice = repository.orgsOnPlans(sweep.after(), sweep.planIds(), sweep.defaultPlanId(), SWEEP_SLICE);
            slice.forEach(o -> orgs.computeIfAbsent(o, x -> new Work()).whole = true);
            sweep = slice.size() < SWEEP_SLICE ? null
                    : new Sweep(sweep.planIds(), sweep.defaultPlanId(), slice.get(slice.size() - 1));
        }
    }
}
