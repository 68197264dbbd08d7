package dev.metering.api.alert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.metering.api.ApiException;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class AlertListCursorTest {

    @Test
    void shouldKeepTheMicrosecondTimeAndIdOfTheLastAlert() {
        AlertListRoutes.Cursor c = new AlertListRoutes.Cursor(Instant.parse("2026-11-22T18:30:01.123456Z"), 42);
        assertThat(AlertListRoutes.Cursor.decode(c.encode())).isEqualTo(c);
        AlertListRoutes.Cursor before1970 = new AlertListRoutes.Cursor(Instant.parse("1969-12-31T23:59:59.999999Z"), 7);
        assertThat(AlertListRoutes.Cursor.decode(before1970.encode())).isEqualTo(before1970);
    }

    @Test
    void shouldRefuseTextThatIsNotACursorNamingAfter() {
        for (String bad : new String[] {"%%%", "MTIz", "YWJjOjQy", "x".repeat(65)}) {
            assertThatThrownBy(() -> AlertListRoutes.Cursor.decode(bad)).as(bad).isInstanceOfSatisfying(ApiException.class,
                    e -> assertThat(e.field()).isEqualTo("after"));
        }
    }
}
