package dev.metering.api.event;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.metering.api.ApiException;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class EventCursorTest {

    @Test
    void shouldRoundTripTimeToTheMicrosecondAndAnEventIdWithColons() {
        EventCursor c = new EventCursor(Instant.parse("2026-11-22T18:30:00.123456Z"), "evt:1:ü");
        assertThat(EventCursor.decode(c.encode())).isEqualTo(c);
    }

    @Test
    void shouldRoundTripTimesBeforeTheEpoch() {
        EventCursor c = new EventCursor(Instant.parse("1969-12-31T23:59:59.999999Z"), "e");
        assertThat(EventCursor.decode(c.encode())).isEqualTo(c);
    }

    @Test
    void shouldRefuseATamperedCursorNamingAfter() {
        for (String bad : new String[] {"%%%", "bm90LWEtY3Vyc29y", "OmU", "MTIz", "x".repeat(600)}) {
            ApiException e = catchThrowableOfType(() -> EventCursor.decode(bad), ApiException.class);
            assertThat(e).as(bad).isNotNull();
            assertThat(e.status()).isEqualTo(400);
            assertThat(e.field()).isEqualTo("after");
        }
    }
}
