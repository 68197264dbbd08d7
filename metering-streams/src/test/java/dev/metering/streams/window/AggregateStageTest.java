package dev.metering.streams.window;

import static dev.metering.streams.MeteringDriver.header;
import static dev.metering.streams.MeteringDriver.reason;
import static dev.metering.streams.TestEvents.anEvent;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.metering.avro.PricedUsageEvent;
import dev.metering.avro.UsageEvent;
import dev.metering.avro.UsageWindowKey;
import dev.metering.avro.UsageWindowTotals;
import dev.metering.avro.WindowGrain;
import dev.metering.avro.WindowSize;
import dev.metering.events.DeadLetterHeaders;
import dev.metering.events.Topics;
import dev.metering.streams.MeteringDriver;
import dev.metering.streams.TestEvents;
import dev.metering.streams.TopologyConfig;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.streams.KeyValue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AggregateStageTest {

    private static final Instant MAR_09 = Instant.parse("2026-03-09T00:00:00Z");
    private static final Instant MAR_10 = Instant.parse("2026-03-10T00:00:00Z");

    @TempDir
    Path stateDir;

    private static Instant at(String iso) {
        return Instant.parse(iso);
    }

    @Test
    void shouldPutOutOfOrderEventsWithinGraceInTheirOwnHourAndDay() {
        try (MeteringDriver driver = new MeteringDriver(stateDir)) {
            driver.send(
                    anEvent().org("acme").at(at("2026-03-10T10:15:00Z")).quantity(1),
                    anEvent().org("acme").at(at("2026-03-11T13:30:00Z")).quantity(2),
                    anEvent().org("acme").at(at("2026-03-10T10:59:59.999Z")).quantity(4),
                    anEvent().org("acme").at(at("2026-03-09T23:59:59.999Z")).quantity(8),
                    anEvent().org("acme").at(at("2026-03-10T00:00:00Z")).quantity(16));

            assertThat(driver.orgRow(WindowSize.HOUR, at("2026-03-10T10:00:00Z"), "acme", "CHAT_MESSAGE"))
                    .satisfies(row -> {
                        assertThat(row.getEvents()).isEqualTo(2);
                        assertThat(row.getQuantity()).isEqualTo(5);
                        assertThat(row.getFirstEventAt()).isEqualTo(at("2026-03-10T10:15:00Z"));
                        assertThat(row.getLastEventAt()).isEqualTo(at("2026-03-10T10:59:59.999Z"));
                    });
            assertThat(driver.orgRow(WindowSize.HOUR, at("2026-03-09T23:00:00Z"), "acme", "CHAT_MESSAGE").getQuantity())
                    .isEqualTo(8);
            assertThat(driver.orgRow(WindowSize.HOUR, at("2026-03-10T00:00:00Z"), "acme", "CHAT_MESSAGE").getQuantity())
                    .isEqualTo(16);
            assertThat(driver.orgRow(WindowSize.DAY, MAR_09, "acme", "CHAT_MESSAGE").getQuantity()).isEqualTo(8);
            assertThat(driver.orgRow(WindowSize.DAY, MAR_10, "acme", "CHAT_MESSAGE").getQuantity()).isEqualTo(21);
            assertThat(driver.orgRow(WindowSize.DAY, at("2026-03-11T00:00:00Z"), "acme", "CHAT_MESSAGE").getQuantity())
                    .isEqualTo(2);
            assertThat(driver.deadLetters()).isEmpty();
        }
    }

    @Test
    void shouldRouteEventBeyondGraceToDlqAsLate() {
        try (MeteringDriver driver = new MeteringDriver(stateDir)) {
            driver.send(anEvent().org("acme").at(at("2026-03-10T12:30:00Z")));
            driver.send(anEvent().org("acme").at(at("2026-03-12T13:00:00Z"))); // stream time
            UsageEvent late = anEvent().org("acme").at(at("2026-03-10T12:00:00Z")).build(); // hour closed at 03-12T13:00
            UsageEvent inTime = anEvent().org("acme").at(at("2026-03-10T13:00:00Z")).build(); // closes at 03-12T14:00
            driver.send(late, inTime);

            assertThat(driver.deadLetters()).singleElement().satisfies(d -> {
                assertThat(reason(d)).isEqualTo("LATE");
                assertThat(header(d, DeadLetterHeaders.STAGE)).isEqualTo("aggregate");
                assertThat(header(d, DeadLetterHeaders.MESSAGE)).contains("2026-03-10T12:00:00Z");
                assertThat(header(d, DeadLetterHeaders.ORIGINAL_OFFSET)).isEqualTo("2");
                assertThat(d.key()).isEqualTo("acme".getBytes(UTF_8));
                assertThat(d.value()).isEqualTo(driver.encode(late));
            });
            // the late event changed neither its hour nor its day
            assertThat(driver.orgRow(WindowSize.HOUR, at("2026-03-10T12:00:00Z"), "acme", "CHAT_MESSAGE").getEvents()).isEqualTo(1);
            assertThat(driver.orgRow(WindowSize.DAY, MAR_10, "acme", "CHAT_MESSAGE").getEvents()).isEqualTo(2);
            assertThat(driver.metrics().count("late")).isEqualTo(1);
            assertThat(driver.metrics().count("LATE")).isEqualTo(1);
        }
    }

    @Test
    void shouldApplyTheConfiguredGrace() {
        TopologyConfig config = TopologyConfig.defaults(Topics.defaults(), Clock.fixed(TestEvents.NOW, ZoneOffset.UTC))
                .withGrace(Duration.ofMinutes(10));
        try (MeteringDriver driver = new MeteringDriver(stateDir, config)) {
            driver.send(anEvent().org("acme").at(at("2026-03-10T11:10:00Z")));
            driver.send(anEvent().org("acme").at(at("2026-03-10T10:59:00Z"))); // 10:00 hour closed at 11:10

            assertThat(driver.deadLetters()).singleElement().satisfies(d -> assertThat(reason(d)).isEqualTo("LATE"));
        }
    }

    @Test
    void shouldMakeOrgTotalsEqualTheSumOfDetailRows() {
        try (MeteringDriver driver = new MeteringDriver(stateDir)) {
            driver.price("openai", "gpt-5", at("2026-01-01T00:00:00Z"), 1_250_000_000L, 125_000_000L, 10_000_000_000L, null);
            String[] users = {"u1", "u2", null};
            String[][] models = {{"openai", "gpt-5"}, {"anthropic", "claude"}, {null, null}};
            for (int i = 0; i < 30; i++) {
                String[] m = models[i % 3];
                driver.send(anEvent().org("acme").feature("AI_COMPLETION").user(users[i % 3 == 0 ? 0 : (i % 2 + 1)])
                        .model(m[0], m[1]).tokens(100 + i, 10 * i).cached(i)
                        .at(at("2026-03-10T10:00:00Z").plus(Duration.ofMinutes(7L * i))));
            }

            Map<String, long[]> orgSums = new HashMap<>();
            Map<String, BigDecimal> orgCost = new HashMap<>();
            Map<String, UsageWindowTotals> orgRows = new HashMap<>();
            for (Map.Entry<UsageWindowKey, UsageWindowTotals> e : driver.totals().entrySet()) {
                UsageWindowKey k = e.getKey();
                String window = k.getSize() + "@" + k.getWindowStart() + "/" + k.getFeature();
                if (k.getGrain() == WindowGrain.ORG) {
                    orgRows.put(window, e.getValue());
                } else {
                    assertThat(k.getSize()).isEqualTo(WindowSize.HOUR); // detail rows are hourly only
                    UsageWindowTotals t = e.getValue();
                    // each detail hour counts toward its org hour and its org day
                    Instant day = k.getWindowStart().truncatedTo(java.time.temporal.ChronoUnit.DAYS);
                    for (String w : List.of(window, "DAY@" + day + "/" + k.getFeature())) {
                        long[] s = orgSums.computeIfAbsent(w, x -> new long[6]);
                        s[0] += t.getEvents();
                        s[1] += t.getQuantity();
                        s[2] += t.getInputTokens();
                        s[3] += t.getOutputTokens();
                        s[4] += t.getCachedInputTokens();
                        s[5] += t.getUnpricedEvents();
                        orgCost.merge(w, t.getCostFemtos(), BigDecimal::add);
                    }
                }
            }
            assertThat(orgRows).hasSize(5); // 4 hours (10:00-13:23) + 1 day
            assertThat(orgRows.keySet()).isEqualTo(orgSums.keySet());
            orgRows.forEach((window, org) -> {
                long[] s = orgSums.get(window);
                assertThat(new long[] {org.getEvents(), org.getQuantity(), org.getInputTokens(), org.getOutputTokens(),
                        org.getCachedInputTokens(), org.getUnpricedEvents()}).as(window).containsExactly(s);
                assertThat(org.getCostFemtos()).as(window).isEqualByComparingTo(orgCost.get(window));
            });
            UsageWindowTotals day = orgRows.get("DAY@" + MAR_10 + "/AI_COMPLETION");
            assertThat(day.getEvents()).isEqualTo(30);
            assertThat(day.getInputTokens()).isEqualTo(30 * 100 + 435);
            assertThat(day.getUnpricedEvents()).isEqualTo(20); // claude (not in the book) and the ones with tokens but no model
        }
    }

    @Test
    void shouldEmitAbsoluteTotalsWithAVersionGrowingByOnePerEvent() {
        try (MeteringDriver driver = new MeteringDriver(stateDir)) {
            driver.send(anEvent().org("acme").tokens(10), anEvent().org("acme").tokens(20), anEvent().org("acme").tokens(30));

            List<KeyValue<UsageWindowKey, UsageWindowTotals>> hourOrg = driver.updates().stream()
                    .filter(kv -> kv.key.getGrain() == WindowGrain.ORG && kv.key.getSize() == WindowSize.HOUR)
                    .toList();
            assertThat(hourOrg).extracting(kv -> kv.value.getVersion()).containsExactly(1L, 2L, 3L);
            assertThat(hourOrg).extracting(kv -> kv.value.getInputTokens()).containsExactly(10L, 30L, 60L);
        }
    }

    @Test
    void shouldEmitEachChangedRowOncePerEmissionIntervalWithItsLatestTotals() {
        try (MeteringDriver driver = new MeteringDriver(stateDir)) {
            driver.sendWithoutEmission(anEvent().org("acme").id("a").tokens(10).build())
                    .sendWithoutEmission(anEvent().org("acme").id("b").tokens(20).build())
                    .sendWithoutEmission(anEvent().org("acme").id("c").tokens(30).build());
            assertThat(driver.updates()).isEmpty(); // held until the emission interval passes

            driver.advanceWallClock(TopologyConfig.DEFAULT_EMIT_INTERVAL);

            assertThat(driver.updates()).hasSize(3).allSatisfy(kv -> {
                assertThat(kv.value.getVersion()).isEqualTo(3);
                assertThat(kv.value.getInputTokens()).isEqualTo(60);
            });
            driver.advanceWallClock(TopologyConfig.DEFAULT_EMIT_INTERVAL);
            assertThat(driver.updates()).hasSize(3); // nothing changed, nothing emitted again
        }
    }

    @Test
    void shouldKeepConversationTotalsOverTheConversationsWholeLife() {
        try (MeteringDriver driver = new MeteringDriver(stateDir)) {
            driver.send(
                    anEvent().org("acme").conversation("c-1").at(at("2026-03-09T23:30:00Z")).tokens(5),
                    anEvent().org("acme").conversation("c-1").at(at("2026-03-10T10:15:00Z")).tokens(7),
                    anEvent().org("acme").conversation("c-1").feature("AI_COMPLETION").at(at("2026-03-10T10:16:00Z")),
                    anEvent().org("acme").conversation("c-2").at(at("2026-03-10T10:17:00Z")),
                    anEvent().org("acme").at(at("2026-03-10T10:18:00Z"))); // no conversation: no conversation row

            UsageWindowTotals c1 = driver.conversationRow("acme", "c-1", "CHAT_MESSAGE");
            assertThat(c1.getEvents()).isEqualTo(2);
            assertThat(c1.getInputTokens()).isEqualTo(12);
            assertThat(c1.getFirstEventAt()).isEqualTo(at("2026-03-09T23:30:00Z"));
            assertThat(c1.getLastEventAt()).isEqualTo(at("2026-03-10T10:15:00Z"));
            assertThat(driver.conversationRow("acme", "c-1", "AI_COMPLETION").getEvents()).isEqualTo(1);
            assertThat(driver.conversationRow("acme", "c-2", "CHAT_MESSAGE").getEvents()).isEqualTo(1);
            assertThat(driver.totals().keySet()).filteredOn(k -> k.getGrain() == WindowGrain.CONVERSATION).hasSize(3)
                    .allSatisfy(k -> {
                        assertThat(k.getSize()).isEqualTo(WindowSize.LIFETIME);
                        assertThat(k.getWindowStart()).isEqualTo(Instant.EPOCH);
                        assertThat(k.getUserId()).isEmpty();
                    });
        }
    }

    @Test
    void shouldStartAConversationAfreshOnceItWasIdleForTheTtl() {
        TopologyConfig config = TopologyConfig.defaults(Topics.defaults(), Clock.fixed(TestEvents.NOW, ZoneOffset.UTC))
                .withConversationTtl(Duration.ofHours(2));
        try (MeteringDriver driver = new MeteringDriver(stateDir, config)) {
            driver.send(anEvent().org("acme").conversation("c-1").at(at("2026-03-10T10:00:00Z")),
                    anEvent().org("acme").conversation("c-1").at(at("2026-03-10T10:30:00Z")));
            // 1h59 idle: still the same conversation
            driver.send(anEvent().org("acme").at(at("2026-03-10T12:29:00Z")));
            driver.advanceWallClock(Duration.ofMinutes(1)); // a purge runs
            driver.send(anEvent().org("acme").conversation("c-1").at(at("2026-03-10T12:29:00Z")));
            assertThat(driver.conversationRow("acme", "c-1", "CHAT_MESSAGE").getEvents()).isEqualTo(3);

            // idle for the TTL (stream time moved on by another conversation's event), then purged
            driver.send(anEvent().org("acme").conversation("c-2").at(at("2026-03-10T15:00:00Z")));
            driver.advanceWallClock(Duration.ofMinutes(1));
            driver.send(anEvent().org("acme").conversation("c-1").at(at("2026-03-10T15:01:00Z")));

            List<UsageWindowTotals> c1 = driver.updates().stream()
                    .filter(kv -> kv.key.getGrain() == WindowGrain.CONVERSATION && kv.key.getConversationId().equals("c-1"))
                    .map(kv -> kv.value).toList();
            assertThat(c1).extracting(UsageWindowTotals::getEvents).containsExactly(1L, 2L, 3L, 1L);
            assertThat(c1.get(3).getFirstEventAt()).isEqualTo(at("2026-03-10T15:01:00Z"));
        }
    }

    @Test
    void shouldWriteEveryCountedEventOncePricedWhenTheEventLogIsOn() {
        TopologyConfig config = TopologyConfig.defaults(Topics.defaults(), Clock.fixed(TestEvents.NOW, ZoneOffset.UTC))
                .withEventLog(true);
        try (MeteringDriver driver = new MeteringDriver(stateDir, config)) {
            driver.price("openai", "gpt-5", at("2026-01-01T00:00:00Z"), 1_250_000_000L, 125_000_000L, 10_000_000_000L, null);
            UsageEvent priced = anEvent().org("acme").id("p").completion("openai", "gpt-5").tokens(1000, 500).cached(3)
                    .conversation("c-1").user("u-1").build();
            UsageEvent unknown = anEvent().org("acme").id("u").completion("openai", "gpt-x").tokens(10).build();
            driver.send(priced, priced, unknown); // the duplicate is not logged twice
            driver.send(anEvent().org("acme").id("late").at(at("2026-03-01T00:00:00Z"))); // LATE: not counted, not logged

            List<KeyValue<String, PricedUsageEvent>> log = driver.pricedEvents();
            assertThat(log).extracting(kv -> kv.key).containsExactly("acme", "acme");
            PricedUsageEvent p = log.get(0).value;
            assertThat(p.getEventId()).isEqualTo("p");
            assertThat(p.getConversationId()).isEqualTo("c-1");
            assertThat(p.getUserId()).isEqualTo("u-1");
            // 1000 x 1.25e9 + 3 x 1.25e8 + 500 x 1e10 femto = 6,250,375,000,000 femto = 6,250,375 nano (exact)
            assertThat(p.getCostFemtos()).isEqualByComparingTo(new BigDecimal("6250375000000"));
            assertThat(p.getCostNanos()).isEqualTo(6_250_375L);
            assertThat(p.getPriced()).isTrue();
            assertThat(p.getEffectiveFrom()).isEqualTo(at("2026-01-01T00:00:00Z"));
            PricedUsageEvent u = log.get(1).value;
            assertThat(u.getPriced()).isFalse();
            assertThat(u.getCostNanos()).isZero();
            assertThat(u.getEffectiveFrom()).isNull();
        }
    }

    @Test
    void shouldWriteNoEventLogWhenItIsOff() {
        try (MeteringDriver driver = new MeteringDriver(stateDir)) {
            driver.send(anEvent().org("acme"));
            assertThat(driver.pricedEvents()).isEmpty();
            assertThat(driver.totals()).hasSize(3);
        }
    }
}
