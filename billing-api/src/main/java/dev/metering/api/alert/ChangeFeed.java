package dev.metering.api.alert;

import dev.metering.api.account.AccountCache;
import dev.metering.api.account.BillingService;
import dev.metering.api.plan.Plan;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * What the alert detector evaluates in a pass: orgs whose usage changed since the previous pass
 * (org and user limits; conversation totals: conversation limits), orgs whose subscription or
 * credit grants changed (a lowered override or a new plan can put usage past a threshold without
 * new usage), and, after a catalog change, every org on a changed plan, in slices of
 * {@link #SWEEP_SLICE} per pass.
 *
 * <p>Usage changes come from {@code metering.usage_changes}, which statement triggers on the
 * usage tables fill (V18): each pass reads the rows that a snapshot could not see (the first
 * page's of the previous complete read, so a row may be read twice, never not at all), in pages
 * of {@link #FEED_PAGE} rows, up to {@link #MAX_CHANGES_PER_PASS} orgs a pass (the rest at the
 * next), so it costs what changed, however much recent usage there is. At the first pass
 * and after {@link #STALE_AFTER} without a successful read (the sink keeps feed rows an hour), it
 * evaluates every user and conversation with usage in the look-back instead, a page of
 * {@link #MAX_CHANGES_PER_PASS} a pass, from a feed position taken first (so nothing written
 * meanwhile is missed). Orgs whose evaluation failed are taken again at the next pass, one by
 * one. Subscription and grant changes are followed by their {@code revision} (one sequence),
 * looking back {@link #REVISION_LOOKBACK} revisions for writes that commit out of order, as the
 * account cache does. Used by one thread, one pass at a time.
 */
final class ChangeFeed {

    /** Feed rows read per statement: each holds the keys of one sink statement (up to a batch's). */
    static final int FEED_PAGE = 100;
    /** Half the hour the sink keeps feed rows: a reader further behind may have lost some. */
    static final Duration STALE_AFTER = Duration.ofMinutes(30);
    static final int MAX_CHANGES_PER_PASS = 50_000;
    /** An org whose evaluation failed this many times (in passes whose reads succeeded) is given up. */
    static final int MAX_FAILURES = 5;
    static final int REVISION_LOOKBACK = 256;
    static final int SWEEP_SLICE = 1_000;

    /**
     * What to evaluate of one org; {@code whole}: also its recent users and conversations;
     * {@code alone}: an evaluation with it failed, so it is evaluated on its own; {@code failures}:
     * how many evaluations with it failed.
     */
    static final class Work {
        final Set<String> users = new LinkedHashSet<>();
        final Set<String> conversations = new LinkedHashSet<>();
        boolean whole;
        boolean alone;
        int failures;

        void add(Work other) {
            users.addAll(other.users);
            conversations.addAll(other.conversations);
            whole |= other.whole;
            alone |= other.alone;
            failures = Math.max(failures, other.failures);
        }
    }

    /** A catalog change being swept: the changed plans and the last org id done. */
    private record Sweep(List<String> planIds, String defaultPlanId, String after) {
    }

    /** Recent usage evaluated whole, a page a pass: users, then conversations, after (org, subject). */
    private record CatchUp(boolean conversations, String org, String subject) {
        static final CatchUp START = new CatchUp(false, "", "");
    }

    private final BillingService service;
    private final AlertRepository repository;
    private final Clock clock;
    /** The snapshot whose unseen rows are read. */
    private AlertRepository.FeedPosition position;
    /** While paging through the rows of {@link #position}: the last id read and the first page's position. */
    private long pagedTo;
    private AlertRepository.FeedPosition pagedNext;
    private Instant lastRead;
    private CatchUp catchUp;
    /** Orgs whose evaluation failed: taken again at the next pass. */
    private final Map<String, Work> retry = new LinkedHashMap<>();
    private Long revision;
    private final Set<Long> handledRevisions = new HashSet<>();
    private AccountCache.CatalogState catalog;
    private Sweep sweep;

    ChangeFeed(BillingService service, AlertRepository repository, Clock clock) {
        this.service = service;
        this.repository = repository;
        this.clock = clock;
    }

    /** The orgs to evaluate now, usage of windows from {@code windowsFrom} on. */
    Map<String, Work> next(Instant windowsFrom) {
        Map<String, Work> orgs = new LinkedHashMap<>();
        retry.forEach((org, work) -> orgs.computeIfAbsent(org, o -> new Work()).add(work));
        retry.clear();
        try {
            Instant now = clock.instant();
            if (position == null || lastRead.isBefore(now.minus(STALE_AFTER))) {
                position = repository.feedPosition();
                pagedNext = null;
                catchUp = CatchUp.START;
            } else {
                readFeed(orgs);
            }
            lastRead = now;
            if (catchUp != null) {
                catchUp(orgs, windowsFrom);
            }
            orgChanges(orgs);
            catalogChanges(orgs);
        } catch (RuntimeException e) {
            // what was taken (the feed may have moved past it) is kept for the next pass
            orgs.forEach((org, work) -> retry.computeIfAbsent(org, o -> new Work()).add(work));
            throw e;
        }
        return orgs;
    }

    /**
     * Reads the feed rows {@link #position} did not see, page by page by id, until a page is not
     * full or the pass has enough orgs; then the first page's snapshot is the next position (rows
     * committed after it are read again from there: once more is harmless, never is not).
     */
    private void readFeed(Map<String, Work> orgs) {
        AlertRepository.FeedRead read;
        do {
            read = repository.changesAfter(position, pagedNext == null ? 0 : pagedTo, FEED_PAGE);
            if (pagedNext == null) {
                pagedNext = read.next();
            }
            pagedTo = read.lastId();
            read.changes().forEach(c -> take(orgs, c));
        } while (read.full() && orgs.size() < MAX_CHANGES_PER_PASS);
        if (!read.full()) {
            position = pagedNext;
            pagedNext = null;
        }
    }

    /**
     * The evaluation of these orgs failed (in a pass whose reads had just succeeded): they are
     * taken again at the next pass, each on its own; an org failing {@link #MAX_FAILURES} times is
     * given up (logged by the caller).
     *
     * @return the orgs given up
     */
    List<String> failed(List<Map.Entry<String, Work>> orgs) {
        List<String> givenUp = new ArrayList<>();
        for (Map.Entry<String, Work> e : orgs) {
            Work w = e.getValue();
            w.alone = true;
            if (++w.failures >= MAX_FAILURES) {
                givenUp.add(e.getKey());
            } else {
                retry.computeIfAbsent(e.getKey(), o -> new Work()).add(w);
            }
        }
        return givenUp;
    }

    /** Orgs this pass did not get to: taken again at the next pass, as they are. */
    void later(List<Map.Entry<String, Work>> orgs) {
        orgs.forEach(e -> retry.computeIfAbsent(e.getKey(), o -> new Work()).add(e.getValue()));
    }

    private static void take(Map<String, Work> orgs, AlertRepository.UsageChange c) {
        Work w = orgs.computeIfAbsent(c.orgId(), o -> new Work());
        if (!c.subjectId().isEmpty()) {
            (c.conversation() ? w.conversations : w.users).add(c.subjectId());
        }
    }

    /** One page of every user, then of every conversation, with usage in the look-back. */
    private void catchUp(Map<String, Work> orgs, Instant windowsFrom) {
        CatchUp c = catchUp;
        List<AlertRepository.UsageChange> page = c.conversations()
                ? repository.conversationsWithUsage(windowsFrom, c.org(), c.subject(), MAX_CHANGES_PER_PASS)
                : repository.usersWithUsage(windowsFrom, c.org(), c.subject(), MAX_CHANGES_PER_PASS);
        page.forEach(u -> take(orgs, u));
        if (page.size() < MAX_CHANGES_PER_PASS) {
            catchUp = c.conversations() ? null : new CatchUp(true, "", "");
        } else {
            AlertRepository.UsageChange last = page.get(page.size() - 1);
            catchUp = new CatchUp(c.conversations(), last.orgId(), last.subjectId());
        }
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
