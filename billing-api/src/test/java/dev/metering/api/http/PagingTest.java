package dev.metering.api.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.metering.api.ApiException;
import org.junit.jupiter.api.Test;

class PagingTest {

    @Test
    void shouldDefaultTo100AndAcceptOneToOneThousand() {
        assertThat(Paging.limit(null)).isEqualTo(100);
        assertThat(Paging.limit("")).isEqualTo(100);
        assertThat(Paging.limit("1")).isEqualTo(1);
        assertThat(Paging.limit("1000")).isEqualTo(1000);
    }

    @Test
    void shouldRefuseOtherLimitsNamingTheField() {
        assertThatThrownBy(() -> Paging.limit("0")).isInstanceOf(ApiException.class).hasMessage("limit: must be 1-1000, got 0");
        assertThatThrownBy(() -> Paging.limit("1001")).isInstanceOf(ApiException.class).hasMessage("limit: must be 1-1000, got 1001");
        assertThatThrownBy(() -> Paging.limit("ten")).isInstanceOf(ApiException.class)
                .hasMessage("limit: 'ten' is not a whole number");
        assertThatThrownBy(() -> Paging.limit("99999999999")).isInstanceOf(ApiException.class)
                .hasMessage("limit: '99999999999' is not a whole number");
    }
}
