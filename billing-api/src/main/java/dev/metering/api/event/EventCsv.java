package dev.metering.api.event;

import dev.metering.api.csv.Csv;
import java.util.List;
import java.util.Map;

/**
 * The event listing as CSV: one column per field of a JSON item, in the same order and with the
 * same names, so both forms always carry the same data, written by the one {@link Csv} writer
 * (RFC 4180 quoting, formula neutralising).
 */
final class EventCsv {

    static final List<String> COLUMNS = List.of("eventId", "occurredAt", "feature", "userId", "conversationId",
            "provider", "model", "source", "quantity", "inputTokens", "outputTokens", "cachedInputTokens",
            "cacheWriteTokens", "reasoningTokens", "serviceTier", "costUsd", "priced", "priceEffectiveFrom", "recordedAt");

    private EventCsv() {
    }

    /** Header plus one line per item (absent values empty), each line ending in LF. */
    static String of(List<Map<String, Object>> items) {
        StringBuilder out = new StringBuilder(String.join(",", COLUMNS)).append('\n');
        for (Map<String, Object> item : items) {
            for (int i = 0; i < COLUMNS.size(); i++) {
                Object v = item.get(COLUMNS.get(i));
                out.append(i == 0 ? "" : ",").append(Csv.cell(v == null ? null : v.toString()));
            }
            out.append('\n');
        }
        return out.toString();
    }
}
