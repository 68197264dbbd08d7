package dev.metering.api.event;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class EventCsvTest {

    private static final LoggedEvent EVENT = new LoggedEvent("e,1", "acme", Instant.parse("2026-11-22T10:00:00Z"),
            "AI_COMPLETION", "=u1", null, "openai", "gpt \"5\"", null, 1, 1000, 100, 0, new BigDecimal("0.002250000"),
            true, Instant.parse("2025-08-07T00:00:00Z"), Instant.parse("2026-11-22T12:00:00Z"), 0, 0, null);

    @Test
    void shouldHaveExactlyTheJsonItemsFieldsAsColumnsInTheirOrder() {
        assertThat(EventCsv.COLUMNS).containsExactlyElementsOf(EventRoutes.json(EVENT).keySet());
    }

    @Test
    void shouldWriteOneQuotedLinePerEventAndEmptyCellsForAbsentValues() {
        assertThat(EventCsv.of(List.of(EventRoutes.json(EVENT)))).isEqualTo(
                "eventId,occurredAt,feature,userId,conversationId,provider,model,source,quantity,inputTokens,outputTokens,"
                        + "cachedInputTokens,cacheWriteTokens,reasoningTokens,serviceTier,costUsd,priced,priceEffectiveFrom,"
                        + "recordedAt\n"
                        + "\"e,1\",2026-11-22T10:00:00Z,AI_COMPLETION,'=u1,,openai,\"gpt \"\"5\"\"\",,1,1000,100,0,0,0,,0.00225,"
                        + "true,2025-08-07T00:00:00Z,2026-11-22T12:00:00Z\n");
    }

    @Test
    void shouldWriteOnlyTheHeaderForAnEmptyPage() {
        assertThat(EventCsv.of(List.of())).isEqualTo(String.join(",", EventCsv.COLUMNS) + "\n");
    }
}
