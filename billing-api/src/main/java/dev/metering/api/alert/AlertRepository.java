package dev.metering.api.alert;

import static dev.metering.db.jooq.Tables.ALERTS;
import static dev.metering.db.jooq.Tables.CREDIT_GRANTS;

import dev.metering.api.credit.CreditGrant;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.StringJoiner;
import java.util.function.LongFunction;
import org.jooq.DSLContext;
import org.jooq.Record1;
import org.jooq.impl.DSL;

/**
 * Alerts in PostgreSQL. {@link #recordAll} inserts alerts under their unique keys and, in the same
 * statement, one outbox delivery per subscribed webhook endpoint: of several instances
 * recording the same crossing, exactly one inserts, and its deliveries exist once it committed.
 */
public final class AlertRepository {

    /**
     * Usage of an org written: of one of its users ({@code subjectId} empty for usage without a
     * user and for org-grain rows), or of one of its conversations.
     */
    public record UsageChange(String orgId, String subjectId, boolean conversation) {
    }

    /**
     * A snapshot's place in {@code metering.usage_changes}: the first transaction id it did not
     * see start ({@code xmax}) and those it saw running ({@code inProgress}), as text (xid8).
     */
    public record FeedPosition(String xmax, String[] inProgress) {
    }

    /**
     * What {@link #changesAfter} read: the position of its snapshot, the changes, the last row id
     * read, and whether the page was full (more rows may follow that id).
     */
    public record FeedRead(FeedPosition next, List<UsageChange> changes, long lastId, boolean full) {
    }

    /** A recorded alert as listed: {@code body} is the webhook payload's JSON. */
    public record Recorded(long id, String type, Instant createdAt, String messageId, String body) {
    }

    /** An org whose subscription or credit grants were written at {@code revision}. */
    public record OrgChange(String orgId, long revision) {
    }

    /** The users and conversations of one org with recent usage. */
    public record Subjects(List<String> users, List<String> conversations) {
    }

    private final DSLContext dsl;
    private final AlertPayloads payloads;

    public AlertRepository(DSLContext dsl, AlertPayloads payloads) {
        this.dsl = dsl;
        this.payloads = payloads;
    }

    /**
     * Records those of {@code alerts} whose key does not exist yet, with their outbox deliveries,
     * in one statement however many; returns the ones this call recorded. Keys are inserted in
     * key order, so instances recording overlapping sets never deadlock.
     */
    public List<Alert> recordAll(List<Alert> alerts, Instant now) {
        if (alerts.isEmpty()) {
            return List.of();
        }
        java.util.TreeMap<String, Alert> byKey = new java.util.TreeMap<>();
        alerts.forEach(a -> byKey.putIfAbsent(a.key(), a));
        // crossings found again (their row was written again) are dropped before their payloads are
        // built; the insert's ON CONFLICT is what guarantees once
        dsl.select(ALERTS.ALERT_KEY).from(ALERTS)
                .where(ALERTS.ALERT_KEY.eq(DSL.any(DSL.val(byKey.keySet().toArray(String[]::new)))))
                .fetch(ALERTS.ALERT_KEY).forEach(byKey::remove);
        if (byKey.isEmpty()) {
            return List.of();
        }
        int n = byKey.size();
        String[] keys = new String[n];
        String[] messageIds = new String[n];
        String[] types = new String[n];
        String[] orgs = new String[n];
        String[] bodies = new String[n];
        int i = 0;
        for (Alert a : byKey.values()) {
            keys[i] = a.key();
            messageIds[i] = AlertPayloads.newMessageId();
            types[i] = a.type().wireName();
            orgs[i] = a.orgId();
            bodies[i] = payloads.body(a, now);
            i++;
        }
        OffsetDateTime at = now.atOffset(ZoneOffset.UTC);
        // one statement (the deliveries' insert a data-modifying CTE): the alerts and their
        // deliveries commit together, without BEGIN and COMMIT round trips
        List<String> recordedKeys = dsl.resultQuery("WITH a AS (INSERT INTO metering.alerts (alert_key, message_id, event_type, "
                        + "org_id, body, created_at) SELECT k, m, e, o, b, CAST(? AS timestamptz) FROM unnest(?::text[], ?::text[], "
                        + "?::text[], ?::text[], ?::text[]) AS x(k, m, e, o, b) ON CONFLICT (alert_key) DO NOTHING "
                        + "RETURNING id, alert_key, org_id, event_type), "
                        + "d AS (INSERT INTO metering.webhook_deliveries (endpoint_id, alert_id, status, attempts, next_attempt_at, "
                        + "created_at, retry_from) SELECT e.id, a.id, 'pending', 0, CAST(? AS timestamptz), CAST(? AS timestamptz), "
                        + "CAST(? AS timestamptz) FROM a JOIN metering.webhook_endpoints e ON (e.org_id IS NULL OR e.org_id = a.org_id) "
                        + "AND (e.event_types = '' OR a.event_type = ANY (string_to_array(e.event_types, ',')))) "
                        + "SELECT alert_key FROM a",
                        at, DSL.val(keys), DSL.val(messageIds), DSL.val(types), DSL.val(orgs), DSL.val(bodies), at, at, at)
                .fetch(0, String.class);
        List<Alert> out = new ArrayList<>(recordedKeys.size());
        recordedKeys.forEach(k -> out.add(byKey.get(k)));
        return out;
    }

    /**
     * The org's balance is below its threshold: starts a new low-balance episode and records its
     * alert, unless the org is already below (then false).
     */
    public boolean recordLowBalance(String orgId, LongFunction<Alert> alertOfEpisode, Instant now) {
        return dsl.transactionResult(tx -> {
            OffsetDateTime t = now.atOffset(ZoneOffset.UTC);
            Record1<Long> episode = tx.dsl().resultQuery(
                    "INSERT INTO metering.low_balance_state AS s (org_id, below, episode, updated_at) VALUES (?, true, 1, CAST(? AS timestamptz)) "
                            + "ON CONFLICT (org_id) DO UPDATE SET below = true, episode = s.episode + 1, updated_at = excluded.updated_at "
                            + "WHERE NOT s.below RETURNING s.episode", orgId, t)
                    .coerce(DSL.field("episode", Long.class)).fetchOne();
            if (episode == null) {
                return false;
            }
            return insert(tx.dsl(), alertOfEpisode.apply(episode.value1()), now);
        });
    }

    /** The orgs' balances are at or above their thresholds again: the next drop below alerts anew. */
    public void rearmLowBalance(List<String> orgIds, Instant now) {
        if (orgIds.isEmpty()) {
            return;
        }
        dsl.execute("UPDATE metering.low_balance_state SET below = false, updated_at = CAST(? AS timestamptz) "
                + "WHERE org_id = ANY (?::text[]) AND below", now.atOffset(ZoneOffset.UTC), DSL.val(orgIds.toArray(String[]::new)));
    }

    private boolean insert(DSLContext t, Alert alert, Instant now) {
        OffsetDateTime at = now.atOffset(ZoneOffset.UTC);
        Record1<Long> id = t.insertInto(ALERTS)
                .set(ALERTS.ALERT_KEY, alert.key())
                .set(ALERTS.MESSAGE_ID, AlertPayloads.newMessageId())
                .set(ALERTS.EVENT_TYPE, alert.type().wireName())
                .set(ALERTS.ORG_ID, alert.orgId())
                .set(ALERTS.BODY, payloads.body(alert, now))
                .set(ALERTS.CREATED_AT, at)
                .onConflict(ALERTS.ALERT_KEY).doNothing()
                .returningResult(ALERTS.ID).fetchOne();
        if (id == null) {
            return false;
        }
        t.execute("INSERT INTO metering.webhook_deliveries (endpoint_id, alert_id, status, attempts, next_attempt_at, "
                        + "created_at, retry_from) "
                        + "SELECT e.id, ?, 'pending', 0, CAST(? AS timestamptz), CAST(? AS timestamptz), CAST(? AS timestamptz) FROM metering.webhook_endpoints e "
                        + "WHERE (e.org_id IS NULL OR e.org_id = ?) "
                        + "AND (e.event_types = '' OR ? = ANY (string_to_array(e.event_types, ',')))",
                id.value1(), at, at, at, alert.orgId(), alert.type().wireName());
        return true;
    }

    /**
     * Where the current snapshot of the database stands in {@code metering.usage_changes}: a read
     * from here on returns every row committed after it.
     */
    public FeedPosition feedPosition() {
        return dsl.resultQuery("SELECT pg_snapshot_xmax(s)::text, ARRAY(SELECT pg_snapshot_xip(s)::text) "
                        + "FROM pg_current_snapshot() s")
                .fetchOne(r -> new FeedPosition(r.get(0, String.class), r.get(1, String[].class)));
    }

    /**
     * One page of the rows of {@code metering.usage_changes} that the snapshot of {@code after}
     * could not see, those with an id above {@code afterId}, at most {@code limit} rows in id
     * order, and the position of this read. One statement, so the rows and the new position come
     * from one snapshot: a row this read cannot see was written by a transaction still running (in
     * its in-progress list) or not yet started (from its xmax on), and a read from the new
     * position takes it.
     */
    public FeedRead changesAfter(FeedPosition after, long afterId, int limit) {
        List<UsageChange> changes = new ArrayList<>();
        FeedPosition[] next = new FeedPosition[1];
        long[] last = {afterId, 0};
        // the position as literals (numbers, parsed here), not binds: a generic plan, which the
        // driver's server-side prepare leads to, cannot know how few rows lie past xmax and walks
        // the whole feed in id order (43 ms for an hour of rows instead of 0.1 ms)
        String xmax = Long.toString(Long.parseLong(after.xmax()));
        StringJoiner xip = new StringJoiner(",", "{", "}");
        for (String x : after.inProgress()) {
            xip.add(Long.toString(Long.parseLong(x)));
        }
        dsl.resultQuery("SELECT pg_snapshot_xmax(s.snap)::text, ARRAY(SELECT pg_snapshot_xip(s.snap)::text), c.id, "
                        + "c.conversations, c.org_ids, c.subject_ids FROM (SELECT pg_current_snapshot() AS snap) s "
                        + "LEFT JOIN LATERAL (SELECT id, conversations, org_ids, subject_ids FROM metering.usage_changes "
                        + "WHERE (tx >= '" + xmax + "'::xid8 OR tx = ANY ('" + xip + "'::xid8[])) AND id > ? "
                        + "ORDER BY id LIMIT ?) c ON true ORDER BY c.id",
                        afterId, limit)
                .forEach(r -> {
                    next[0] = new FeedPosition(r.get(0, String.class), r.get(1, String[].class));
                    Long id = r.get(2, Long.class);
                    if (id == null) {
                        return;
                    }
                    last[0] = id;
                    last[1]++;
                    String[] orgs = r.get(4, String[].class);
                    String[] subjects = r.get(5, String[].class);
                    boolean conversations = r.get(3, Boolean.class);
                    for (int i = 0; i < orgs.length; i++) {
                        changes.add(new UsageChange(orgs[i], subjects[i], conversations));
                    }
                });
        return new FeedRead(next[0], changes, last[0], last[1] == limit);
    }

    /**
     * One page of the (org, user) pairs with hourly usage of windows from {@code windowsFrom} on,
     * in key order after ({@code afterOrg}, {@code afterUser}); for evaluating recent usage whole.
     */
    public List<UsageChange> usersWithUsage(Instant windowsFrom, String afterOrg, String afterUser, int limit) {
        List<UsageChange> out = new ArrayList<>();
        dsl.resultQuery("SELECT DISTINCT org_id, user_id FROM metering.usage_hourly WHERE window_start >= CAST(? AS timestamptz) "
                        + "AND (org_id, user_id) > (?, ?) ORDER BY org_id, user_id LIMIT ?",
                        windowsFrom.atOffset(ZoneOffset.UTC), afterOrg, afterUser, limit)
                .forEach(r -> out.add(new UsageChange(r.get(0, String.class), r.get(1, String.class), false)));
        return out;
    }

    /**
     * One page of the (org, conversation) pairs with an event from {@code lastEventFrom} on, in
     * key order after ({@code afterOrg}, {@code afterConversation}).
     */
    public List<UsageChange> conversationsWithUsage(Instant lastEventFrom, String afterOrg, String afterConversation,
                                                    int limit) {
        List<UsageChange> out = new ArrayList<>();
        dsl.resultQuery("SELECT DISTINCT org_id, conversation_id FROM metering.conversation_usage "
                        + "WHERE last_event_at >= CAST(? AS timestamptz) AND (org_id, conversation_id) > (?, ?) "
                        + "ORDER BY org_id, conversation_id LIMIT ?",
                        lastEventFrom.atOffset(ZoneOffset.UTC), afterOrg, afterConversation, limit)
                .forEach(r -> out.add(new UsageChange(r.get(0, String.class), r.get(1, String.class), true)));
        return out;
    }

    /** The highest revision of subscriptions and credit grants (0 when there is none). */
    public long latestOrgRevision() {
        Long v = dsl.resultQuery("SELECT greatest((SELECT max(revision) FROM metering.subscriptions), "
                + "(SELECT max(revision) FROM metering.credit_grants))").fetchOne(0, Long.class);
        return v == null ? 0L : v;
    }

    /** Subscription and grant writes after {@code revision}, at most {@code limit}, lowest first. */
    public List<OrgChange> orgChangesAfter(long revision, int limit) {
        List<OrgChange> out = new ArrayList<>();
        dsl.resultQuery("SELECT org_id, revision FROM metering.subscriptions WHERE revision > ? "
                        + "UNION ALL SELECT org_id, revision FROM metering.credit_grants WHERE revision > ? "
                        + "ORDER BY revision LIMIT ?", revision, revision, limit)
                .forEach(r -> out.add(new OrgChange(r.get(0, String.class), r.get(1, Long.class))));
        return out;
    }

    /**
     * The org's users (hourly rows of windows from {@code from}) and conversations (an event from
     * {@code from} on) with usage, at most {@code limit} of each.
     */
    public Subjects recentSubjects(String orgId, Instant from, int limit) {
        OffsetDateTime f = from.atOffset(ZoneOffset.UTC);
        List<String> users = dsl.resultQuery("SELECT DISTINCT user_id FROM metering.usage_hourly "
                + "WHERE org_id = ? AND window_start >= CAST(? AS timestamptz) AND user_id <> '' LIMIT ?", orgId, f, limit)
                .fetch(0, String.class);
        List<String> conversations = dsl.resultQuery("SELECT DISTINCT conversation_id FROM metering.conversation_usage "
                + "WHERE org_id = ? AND last_event_at >= CAST(? AS timestamptz) LIMIT ?", orgId, f, limit)
                .fetch(0, String.class);
        return new Subjects(users, conversations);
    }

    /**
     * After a catalog change: orgs after {@code afterOrg} (in id order) with usage or credit grants
     * whose plan (their subscription's, else {@code defaultPlanId}) is one of {@code planIds}.
     */
    public List<String> orgsOnPlans(String afterOrg, List<String> planIds, String defaultPlanId, int limit) {
        return dsl.resultQuery("SELECT o.org_id FROM (SELECT org_id FROM metering.org_usage_lifetime "
                        + "UNION SELECT org_id FROM metering.credit_grants) o "
                        + "LEFT JOIN metering.subscriptions s ON s.org_id = o.org_id "
                        + "WHERE o.org_id > ? AND COALESCE(s.plan_id, ?) = ANY (?::text[]) ORDER BY o.org_id LIMIT ?",
                        afterOrg, defaultPlanId, DSL.val(planIds.toArray(String[]::new)), limit)
                .fetch(0, String.class);
    }

    /** Granted credits expiring in (now, until] that have no credits.expiring alert yet. */
    public List<CreditGrant> expiringWithoutAlert(Instant now, Instant until, int limit) {
        OffsetDateTime n = now.atOffset(ZoneOffset.UTC);
        return dsl.selectFrom(CREDIT_GRANTS)
                .where(CREDIT_GRANTS.EXPIRES_AT.gt(n))
                .and(CREDIT_GRANTS.EXPIRES_AT.le(until.atOffset(ZoneOffset.UTC)))
                .and(CREDIT_GRANTS.GRANTED_AT.le(n))
                .andNotExists(dsl.selectOne().from(ALERTS).where(ALERTS.ALERT_KEY.eq(
                        DSL.inline("[\"credits\",\"").concat(CREDIT_GRANTS.ID.cast(String.class)).concat(DSL.inline("\"]")))))
                .orderBy(CREDIT_GRANTS.EXPIRES_AT).limit(limit)
                .fetch(r -> new CreditGrant(r.getId(), r.getOrgId(), r.getAmountUsd(), r.getReason(),
                        r.getGrantedAt().toInstant(), r.getExpiresAt().toInstant(), r.getWelcomePlanId()));
    }

    /**
     * The org's alerts (of {@code type} when given), newest first by (createdAt, id), strictly
     * after {@code after} in that order when given.
     */
    public List<Recorded> page(String orgId, AlertType type, AlertListRoutes.Cursor after, int limit) {
        var condition = ALERTS.ORG_ID.eq(orgId);
        if (type != null) {
            condition = condition.and(ALERTS.EVENT_TYPE.eq(type.wireName()));
        }
        if (after != null) {
            condition = condition.and(DSL.row(ALERTS.CREATED_AT, ALERTS.ID)
                    .lt(after.createdAt().atOffset(ZoneOffset.UTC), after.id()));
        }
        return dsl.select(ALERTS.ID, ALERTS.EVENT_TYPE, ALERTS.CREATED_AT, ALERTS.MESSAGE_ID, ALERTS.BODY).from(ALERTS)
                .where(condition).orderBy(ALERTS.CREATED_AT.desc(), ALERTS.ID.desc()).limit(limit)
                .fetch(r -> new Recorded(r.value1(), r.value2(), r.value3().toInstant(), r.value4(), r.value5()));
    }
}
