package dev.metering.api.event;

import dev.metering.api.ApiException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;

/**
 * Where a page of the event log ended: the last event's (occurredAt, eventId), the order of the
 * listing. Opaque to clients (base64url); an event inserted later never shifts a page already
 * read, because the next page starts strictly after this key.
 */
public record EventCursor(Instant occurredAt, String eventId) {

    private static final int MAX_LENGTH = 512;

    public String encode() {
        long micros = Math.addExact(Math.multiplyExact(occurredAt.getEpochSecond(), 1_000_000L), occurredAt.getNano() / 1_000);
        return Base64.getUrlEncoder().withoutPadding()
                .encodeToString((micros + ":" + eventId).getBytes(StandardCharsets.UTF_8));
    }

    /** The cursor in {@code text}; a 400 naming {@code after} when it is not one this API gave out. */
    public static EventCursor decode(String text) {
        if (text.length() > MAX_LENGTH) {
            throw invalid();
        }
        String plain;
        try {
            plain = new String(Base64.getUrlDecoder().decode(text), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw invalid();
        }
        int colon = plain.indexOf(':');
        if (colon <= 0 || colon == plain.length() - 1) {
            throw invalid();
        }
        try {
            long micros = Long.parseLong(plain.substring(0, colon));
            Instant at = Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1_000L);
            return new EventCursor(at, plain.substring(colon + 1));
        } catch (NumberFormatException | java.time.DateTimeException e) {
            throw invalid();
        }
    }

    private static ApiException invalid() {
        return ApiException.badRequest("after", "not a cursor from a previous page's 'next'");
    }
}
