package dev.metering.api.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.metering.api.ApiException;
import java.util.List;
import java.util.Map;
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

    @Test
    void shouldCutThePageFromOneRowMoreAndPointNextAtItsLastItem() {
        Paging.Page<String> more = Paging.page(List.of(1, 2, 3), 2, i -> "item" + i, i -> "after" + i);
        assertThat(more.items()).containsExactly("item1", "item2");
        assertThat(more.next()).isEqualTo("after2");
        Paging.Page<String> last = Paging.page(List.of(1, 2), 2, i -> "item" + i, i -> "after" + i);
        assertThat(last.items()).containsExactly("item1", "item2");
        assertThat(last.next()).isNull();
        Map<String, Object> empty = Paging.page(List.<Integer>of(), 2, i -> "item" + i, i -> "after" + i).body();
        assertThat(empty.keySet()).containsExactly("items", "next");
        assertThat(empty.get("items")).isEqualTo(List.of());
        assertThat(empty.get("next")).isNull();
    }

    @Test
    void shouldRoundTripIdCursorsAndRefuseForeignOnes() {
        assertThat(Paging.decodeId(Paging.encodeId("org-ü/1"))).isEqualTo("org-ü/1");
        for (String bad : List.of("!!!", "", Paging.encodeId("x".repeat(257)))) {
            assertThatThrownBy(() -> Paging.decodeId(bad)).as(bad).isInstanceOf(ApiException.class)
                    .hasMessage("after: not a cursor from a previous page's 'next'");
        }
    }
}
