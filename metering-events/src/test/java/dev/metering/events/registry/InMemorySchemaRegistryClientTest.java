package dev.metering.events.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.metering.avro.UsageEvent;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.junit.jupiter.api.Test;

class InMemorySchemaRegistryClientTest {

    private static final Schema V1 = SchemaBuilder.record("E").namespace("t").fields()
            .requiredString("id").endRecord();
    private static final Schema V2_WITH_DEFAULT = SchemaBuilder.record("E").namespace("t").fields()
            .requiredString("id").name("n").type().longType().longDefault(0).endRecord();
    private static final Schema V2_WITHOUT_DEFAULT = SchemaBuilder.record("E").namespace("t").fields()
            .requiredString("id").requiredLong("n").endRecord();

    private final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();

    @Test
    void shouldReuseIdForSameSchema() {
        int first = registry.register("s-value", V1);

        assertThat(registry.register("s-value", V1)).isEqualTo(first);
        assertThat(registry.getLatestVersion("s-value")).isEqualTo(new SchemaVersion("s-value", 1, first, V1));
    }

    @Test
    void shouldShareIdAcrossSubjects() {
        int id = registry.register("a-value", V1);

        assertThat(registry.register("b-value", V1)).isEqualTo(id);
        assertThat(registry.getVersion("b-value", 1).id()).isEqualTo(id);
    }

    @Test
    void shouldAddVersionsForCompatibleEvolution() {
        int v1 = registry.register("s", V1);
        int v2 = registry.register("s", V2_WITH_DEFAULT);

        assertThat(v2).isEqualTo(v1 + 1);
        assertThat(registry.getVersion("s", 1)).isEqualTo(new SchemaVersion("s", 1, v1, V1));
        assertThat(registry.getLatestVersion("s")).isEqualTo(new SchemaVersion("s", 2, v2, V2_WITH_DEFAULT));
        assertThat(registry.getSchemaById(v2)).isEqualTo(V2_WITH_DEFAULT);
        assertThat(registry.getId("s", V1)).isEqualTo(v1);
    }

    @Test
    void shouldRefuseBackwardIncompatibleSchemaWithConfluentErrorCode() {
        registry.register("s", V1);

        assertThat(registry.testCompatibility("s", V2_WITHOUT_DEFAULT)).isFalse();
        assertThatThrownBy(() -> registry.register("s", V2_WITHOUT_DEFAULT))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> {
                    assertThat(e.status()).isEqualTo(409);
                    assertThat(e.errorCode()).isEqualTo(409);
                    assertThat(e.registryMessage()).startsWith("Schema being registered is incompatible with an earlier schema");
                });
        assertThat(registry.getLatestVersion("s").version()).isEqualTo(1);
    }

    @Test
    void shouldAcceptAnySchemaWhenCompatibilityIsNone() {
        registry.register("s", V1);
        registry.setCompatibility("s", "none");

        assertThat(registry.getCompatibility("s")).isEqualTo("NONE");
        assertThat(registry.testCompatibility("s", V2_WITHOUT_DEFAULT)).isTrue();
        assertThat(registry.register("s", V2_WITHOUT_DEFAULT)).isEqualTo(2);
    }

    @Test
    void shouldCheckForwardCompatibility() {
        registry.setCompatibility("s", "FORWARD");
        registry.register("s", V2_WITHOUT_DEFAULT);

        // old readers (requiring n) cannot read data without n
        assertThat(registry.testCompatibility("s", V1)).isFalse();
        assertThat(registry.getCompatibility("other")).isEqualTo("BACKWARD");
    }

    @Test
    void shouldAcceptAnyFirstSchema() {
        assertThat(registry.testCompatibility("new", UsageEvent.getClassSchema())).isTrue();
    }

    @Test
    void shouldAnswerNotFoundWithConfluentErrorCodes() {
        registry.register("s", V1);

        assertThatThrownBy(() -> registry.getSchemaById(99))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.errorCode()).isEqualTo(40403));
        assertThatThrownBy(() -> registry.getLatestVersion("missing"))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.errorCode()).isEqualTo(40401));
        assertThatThrownBy(() -> registry.getVersion("s", 2))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.errorCode()).isEqualTo(40402));
        assertThatThrownBy(() -> registry.getId("s", V2_WITH_DEFAULT))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> {
                    assertThat(e.errorCode()).isEqualTo(40403);
                    assertThat(e.isNotFound()).isTrue();
                });
    }

    @Test
    void shouldRefuseUnknownCompatibilityLevel() {
        assertThatThrownBy(() -> registry.setCompatibility("s", "SIDEWAYS"))
                .isExactlyInstanceOf(IllegalArgumentException.class)
                .hasMessage("unknown compatibility level 'SIDEWAYS' (one of [NONE, BACKWARD, BACKWARD_TRANSITIVE, "
                        + "FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE])");
    }

    @Test
    void shouldAssignIdsFromGivenFirstId() {
        assertThat(new InMemorySchemaRegistryClient(42).register("s", V1)).isEqualTo(42);
    }
}
