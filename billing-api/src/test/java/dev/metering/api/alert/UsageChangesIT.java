package dev.metering.api.alert;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.api.it.ApiServer;
import dev.metering.api.it.SinkRows;
import dev.metering.devstack.PostgresServer;
import dev.metering.devstack.TestInfra;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Instant;
import java.util.List;
import org.jooq.DSLContext;
import org.jooq.impl.DSL;
import org.junit.jupiter.api.Test;

/**
 * The usage change feed (V18) the alert detector follows, on real PostgreSQL: every usage write
 * is read once, including one that commits after a read that started while it was running.
 */
class UsageChangesIT {

    private static final Instant T = Instant.parse("2026-11-22T10:30:00Z");

    private record Setup(String url, PostgresServer pg, DSLContext dsl, AlertRepository repository) {
    }

    private static Setup setup(String name) {
        String url = ApiServer.freshDatabase(name);
        PostgresServer pg = TestInfra.postgres();
        DSLContext dsl = DSL.using(url, pg.user(), pg.password());
        return new Setup(url, pg, dsl, new AlertRepository(dsl, new AlertPayloads(new ObjectMapper())));
    }

    @Test
    void shouldNameEachUserOrgAndConversationWrittenSinceThePreviousReadOnce() {
        Setup s = setup("usage_changes_once");
        AlertRepository.FeedPosition start = s.repository().feedPosition();
        SinkRows sink = new SinkRows(s.dsl());
        sink.messages("acme", "u1", T, 3).messages("acme", "u2", T, 1).messages("globex", "", T, 2);
        s.dsl().execute("INSERT INTO metering.conversation_usage (org_id, conversation_id, feature, events, quantity, "
                + "input_tokens, output_tokens, cached_input_tokens, unpriced_events, cost_usd, first_event_at, last_event_at, "
                + "updated_at, version) VALUES ('acme', 'c1', 'CHAT_MESSAGE', 4, 4, 0, 0, 0, 0, 0, now(), now(), now(), 1), "
                + "('acme', 'c1', 'AI_COMPLETION', 1, 1, 0, 0, 0, 0, 0, now(), now(), now(), 1)");

        AlertRepository.FeedRead first = s.repository().changesAfter(start, 0, 100);

        assertThat(first.full()).isFalse();
        // detail rows name their user; org-grain rows the org alone (""), each statement once
        assertThat(first.changes()).containsExactlyInAnyOrder(
                change("acme", "u1"), change("acme", ""), change("acme", ""),
                change("acme", "u2"), change("acme", ""), change("acme", ""),
                change("globex", ""), change("globex", ""), change("globex", ""),
                new AlertRepository.UsageChange("acme", "c1", true));
        AlertRepository.FeedRead second = s.repository().changesAfter(first.next(), 0, 100);
        assertThat(second.changes()).isEmpty();

        sink.messages("acme", "u1", T, 5);
        assertThat(s.repository().changesAfter(second.next(), 0, 100).changes())
                .containsExactlyInAnyOrder(change("acme", "u1"), change("acme", ""), change("acme", ""));
    }

    @Test
    void shouldReadAWriteThatCommitsAfterAReadWhoseSnapshotSawItRunning() throws Exception {
        Setup s = setup("usage_changes_in_flight");
        AlertRepository.FeedPosition start = s.repository().feedPosition();
        try (Connection slow = DriverManager.getConnection(s.url(), s.pg().user(), s.pg().password())) {
            slow.setAutoCommit(false);
            try (Statement st = slow.createStatement()) {
                // a sink transaction that started first and commits last
                st.execute(hourRow("slow", "u9"));
            }
            new SinkRows(s.dsl()).messages("fast", "u1", T, 1);

            AlertRepository.FeedRead whileRunning = s.repository().changesAfter(start, 0, 100);
            assertThat(whileRunning.changes()).extracting(AlertRepository.UsageChange::orgId).containsOnly("fast");

            slow.commit();
            AlertRepository.FeedRead afterCommit = s.repository().changesAfter(whileRunning.next(), 0, 100);
            assertThat(afterCommit.changes()).containsExactly(change("slow", "u9"));
            assertThat(s.repository().changesAfter(afterCommit.next(), 0, 100).changes()).isEmpty();
        }
    }

    @Test
    void shouldPageThroughTheWaitingRowsByIdAndSayWhenAPageIsFull() {
        Setup s = setup("usage_changes_pages_by_id");
        AlertRepository.FeedPosition start = s.repository().feedPosition();
        for (int i = 0; i < 5; i++) {
            s.dsl().execute(hourRow("org-" + i, "u"));
        }

        AlertRepository.FeedRead first = s.repository().changesAfter(start, 0, 2);
        assertThat(first.full()).isTrue();
        assertThat(first.changes()).extracting(AlertRepository.UsageChange::orgId).containsExactly("org-0", "org-1");
        AlertRepository.FeedRead second = s.repository().changesAfter(start, first.lastId(), 2);
        assertThat(second.changes()).extracting(AlertRepository.UsageChange::orgId).containsExactly("org-2", "org-3");
        AlertRepository.FeedRead last = s.repository().changesAfter(start, second.lastId(), 2);
        assertThat(last.full()).isFalse();
        assertThat(last.changes()).extracting(AlertRepository.UsageChange::orgId).containsExactly("org-4");
        // from the first page's position on, nothing it saw comes back
        assertThat(s.repository().changesAfter(first.next(), 0, 2).changes()).isEmpty();
    }

    @Test
    void shouldPageEveryUserAndConversationWithRecentUsageInKeyOrder() {
        Setup s = setup("usage_changes_pages");
        new SinkRows(s.dsl()).messages("b", "u1", T, 1).messages("a", "u2", T, 1).messages("a", "u1", T, 1)
                .messages("a", "", T, 1).messages("old", "u1", T.minusSeconds(86_400), 1);
        Instant from = T.minusSeconds(3_600);

        List<AlertRepository.UsageChange> first = s.repository().usersWithUsage(from, "", "", 3);
        assertThat(first).containsExactly(change("a", ""), change("a", "u1"), change("a", "u2"));
        assertThat(s.repository().usersWithUsage(from, "a", "u2", 3)).containsExactly(change("b", "u1"));
        assertThat(s.repository().conversationsWithUsage(from, "", "", 3)).isEmpty();
    }

    private static AlertRepository.UsageChange change(String org, String user) {
        return new AlertRepository.UsageChange(org, user, false);
    }

    private static String hourRow(String org, String user) {
        return "INSERT INTO metering.usage_hourly (org_id, user_id, feature, window_start, events, quantity, input_tokens, "
                + "output_tokens, cached_input_tokens, unpriced_events, cost_usd, first_event_at, last_event_at, updated_at, "
                + "version) VALUES ('" + org + "', '" + user + "', 'CHAT_MESSAGE', '2026-11-22T10:00:00Z', 1, 1, 0, 0, 0, 0, 0, "
                + "now(), now(), now(), 1)";
    }
}
