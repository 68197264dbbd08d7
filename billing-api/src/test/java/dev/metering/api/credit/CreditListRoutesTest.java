package dev.metering.api.credit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.metering.api.ApiException;
import org.junit.jupiter.api.Test;

class CreditListRoutesTest {

    @Test
    void shouldReadBackTheCursorItGaveOut() {
        assertThat(CreditListRoutes.decode(CreditListRoutes.encode(1))).isEqualTo(1);
        assertThat(CreditListRoutes.decode(CreditListRoutes.encode(Long.MAX_VALUE))).isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void shouldRefuseACursorItCouldNotHaveGivenOutNamingAfter() {
        for (String bad : new String[] {"0", "-1", "not a cursor", "zzzzzzzzzzzzzz"}) {
            assertThatThrownBy(() -> CreditListRoutes.decode(bad)).as(bad).isInstanceOfSatisfying(ApiException.class,
                    e -> {
                        assertThat(e.status()).isEqualTo(400);
                        assertThat(e.field()).isEqualTo("after");
                    });
        }
    }
}
