package dev.metering.api.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.avro.UsageEvent;
import dev.metering.events.UsageEventValidator;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class EventJsonTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Instant NOW = Instant.parse("2026-11-22T18:30:00Z");
    private static final UUID ID = UUID.fromString("00000000-0000-0000-0000-000000000042");

    private static UsageEvent parse(String json, String keyOrg) throws Exception {
        return EventJson.parse(JSON.readTree(json), NOW, keyOrg, () -> ID);
    }

    @Test
    void shouldReadEveryFieldOfTheContract() throws Exception {
        UsageEvent e = parse("{\"eventId\":\"e1\",\"orgId\":\"acme\",\"occurredAt\":1763836200000,\"feature\":\"AI_COMPLETION\","
                + "\"userId\":\"u\",\"conversationId\":\"c\",\"provider\":\"openai\",\"model\":\"gpt-5\",\"source\":\"web\","
                + "\"quantity\":2,\"inputTokens\":10,\"outputTokens\":20,\"cachedInputTokens\":5,\"costNanos\":7,"
                + "\"attributes\":{\"plan\":\"pro\"}}", null);
        assertThat(e.getEventId()).isEqualTo("e1");
        assertThat(e.getOccurredAt()).isEqualTo(Instant.ofEpochMilli(1763836200000L));
        assertThat(e.getQuantity()).isEqualTo(2);
        assertThat(e.getCachedInputTokens()).isEqualTo(5);
        assertThat(e.getCostNanos()).isEqualTo(7);
        assertThat(e.getAttributes()).isEqualTo(Map.of("plan", "pro"));
        assertThat(UsageEventValidator.validate(e, NOW)).isEmpty();
    }

    @Test
    void shouldKeepControlCharactersForTheValidatorToRefuse() throws Exception {
        String json = JSON.createObjectNode().put("orgId", "acme").put("feature", "CHAT_MESSAGE")
                .put("provider", "open\u0000ai").put("userId", "bob\n").toString();

        UsageEvent e = parse(json, null);

        assertThat(UsageEventValidator.validate(e, NOW)).extracting(v -> v.field() + " " + v.code())
                .containsExactly("userId INVALID_CHARACTER", "provider INVALID_CHARACTER");
    }

    @Test
    void shouldReadThePriceBookV2FieldsAndDefaultThemWhenAbsent() throws Exception {
        UsageEvent e = parse("{\"orgId\":\"acme\",\"feature\":\"AI_COMPLETION\",\"inputTokens\":10,\"outputTokens\":20,"
                + "\"cacheWriteTokens\":300,\"reasoningTokens\":15,\"serviceTier\":\"batch\"}", null);
        UsageEvent old = parse("{\"orgId\":\"acme\",\"feature\":\"AI_COMPLETION\",\"inputTokens\":10}", null);

        assertThat(e.getCacheWriteTokens()).isEqualTo(300);
        assertThat(e.getReasoningTokens()).isEqualTo(15);
        assertThat(e.getServiceTier()).isEqualTo("batch");
        assertThat(EventJson.toJson(e)).containsEntry("cacheWriteTokens", 300L).containsEntry("reasoningTokens", 15L)
                .containsEntry("serviceTier", "batch");
        assertThat(EventJson.parse(JSON.valueToTree(EventJson.toJson(e)), NOW, null, () -> ID)).isEqualTo(e);
        assertThat(old.getCacheWriteTokens()).isZero();
        assertThat(old.getReasoningTokens()).isZero();
        assertThat(old.getServiceTier()).isNull();
    }

    @Test
    void shouldReadBackEveryFieldItWrites() throws Exception {
        UsageEvent e = parse("{\"eventId\":\"e1\",\"orgId\":\"acme\",\"occurredAt\":\"2026-11-22T18:29:59.123Z\","
                + "\"feature\":\"AI_COMPLETION\",\"userId\":\"u\",\"conversationId\":\"c\",\"provider\":\"openai\","
                + "\"model\":\"gpt-5\",\"source\":\"web\",\"quantity\":2,\"inputTokens\":10,\"outputTokens\":20,"
                + "\"cachedInputTokens\":5,\"costNanos\":7,\"attributes\":{\"plan\":\"pro\"}}", null);

        Map<String, Object> json = EventJson.toJson(e);

        assertThat(json).containsEntry("occurredAt", "2026-11-22T18:29:59.123Z").containsEntry("costNanos", 7L);
        assertThat(EventJson.parse(JSON.valueToTree(json), NOW, null, () -> ID)).isEqualTo(e);
    }

    @Test
    void shouldDefaultIdTimeOrgAndCountsOnlyWhenAbsent() throws Exception {
        UsageEvent e = parse("{\"feature\":\"CHAT_MESSAGE\"}", "acme");
        assertThat(e.getEventId()).isEqualTo(ID.toString());
        assertThat(e.getOrgId()).isEqualTo("acme");
        assertThat(e.getOccurredAt()).isEqualTo(NOW);
        assertThat(e.getQuantity()).isEqualTo(1);
        assertThat(e.getInputTokens()).isZero();
        assertThat(e.getCostNanos()).isNull();
        assertThat(parse("{\"feature\":\"F\",\"occurredAt\":\"2026-11-22T18:00:00Z\"}", null).getOccurredAt())
                .isEqualTo(Instant.parse("2026-11-22T18:00:00Z"));
    }

    @Test
    void shouldLeaveMissingIdsToTheSharedValidator() throws Exception {
        UsageEvent e = parse("{\"eventId\":\"\"}", null);
        assertThat(UsageEventValidator.validate(e, NOW)).extracting(UsageEventValidator.Violation::field)
                .containsExactly("eventId", "orgId", "feature");
    }

    @Test
    void shouldRefuseWrongTypesNamingTheField() {
        assertThatThrownBy(() -> parse("{\"feature\":\"F\",\"inputTokens\":1.5}", null))
                .isInstanceOfSatisfying(EventJson.ShapeException.class, e -> {
                    assertThat(e.problem.field()).isEqualTo("inputTokens");
                    assertThat(e.problem.code()).isEqualTo("INVALID_TYPE");
                });
        assertThatThrownBy(() -> parse("{\"feature\":\"F\",\"attributes\":{\"a\":1}}", null))
                .isInstanceOfSatisfying(EventJson.ShapeException.class, e -> assertThat(e.problem.field())
                        .isEqualTo("attributes.a"));
        assertThatThrownBy(() -> parse("[1]", null)).isInstanceOf(EventJson.ShapeException.class);
    }

    @Test
    void shouldTellAnInstantOutOfRangeFromAWrongTypeAndNeverTruncateCounts() {
        assertThatThrownBy(() -> parse("{\"feature\":\"F\",\"occurredAt\":\"+300000-01-01T00:00:00Z\"}", null))
                .isInstanceOfSatisfying(EventJson.ShapeException.class, e -> assertThat(e.problem)
                        .isEqualTo(new EventJson.Problem("occurredAt", "INVALID_FORMAT",
                                "occurredAt is out of range (years 0001 to 9999 UTC), got \"+300000-01-01T00:00:00Z\"")));
        assertThatThrownBy(() -> parse("{\"feature\":\"F\",\"quantity\":9223372036854775808}", null))
                .isInstanceOfSatisfying(EventJson.ShapeException.class, e -> assertThat(e.problem)
                        .isEqualTo(new EventJson.Problem("quantity", "INVALID_TYPE",
                                "quantity is out of range (beyond a 64-bit whole number), got 9223372036854775808")));
        assertThatThrownBy(() -> parse("{\"feature\":\"F\",\"attributes\":{\"a\":null}}", null))
                .isInstanceOfSatisfying(EventJson.ShapeException.class, e -> assertThat(e.problem)
                        .isEqualTo(new EventJson.Problem("attributes.a", "INVALID_TYPE", "attributes.a must be a string")));
        assertThatThrownBy(() -> parse("{\"feature\":\"F\",\"colour\":\"red\"}", null))
                .isInstanceOfSatisfying(EventJson.ShapeException.class, e -> assertThat(e.problem)
                        .isEqualTo(new EventJson.Problem("colour", "UNKNOWN_FIELD", "unknown field 'colour'")));
    }
}
