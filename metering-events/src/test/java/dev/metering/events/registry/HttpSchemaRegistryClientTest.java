package dev.metering.events.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class HttpSchemaRegistryClientTest {

    private static final Schema SCHEMA = SchemaBuilder.record("E").namespace("t").fields()
            .requiredString("id").endRecord();
    private static final String SCHEMA_JSON = jsonString(SCHEMA.toString());

    private final FakeRegistry fake = new FakeRegistry();
    private final List<Duration> sleeps = new ArrayList<>();

    @AfterEach
    void stop() {
        fake.close();
    }

    private HttpSchemaRegistryClient.Builder client(String... urls) {
        return HttpSchemaRegistryClient.builder(urls.length == 0 ? new String[] {fake.url()} : urls)
                .sleeper(sleeps::add);
    }

    @Test
    void shouldRegisterWithConfluentRequestUnderBasePath() {
        fake.respond(200, "{\"id\":7}");

        int id = client().build().register("metering.usage.events-value", SCHEMA);

        assertThat(id).isEqualTo(7);
        FakeRegistry.Request request = fake.requests().get(0);
        assertThat(request.method()).isEqualTo("POST");
        assertThat(request.path()).isEqualTo("/apis/ccompat/v7/subjects/metering.usage.events-value/versions");
        assertThat(request.contentType()).isEqualTo("application/vnd.schemaregistry.v1+json");
        assertThat(request.accept()).startsWith("application/vnd.schemaregistry.v1+json");
        assertThat(request.body()).isEqualTo("{\"schema\":" + SCHEMA_JSON + "}");
        assertThat(request.authorization()).isNull();
    }

    @Test
    void shouldCacheIdsAndSchemasInBothDirections() {
        fake.respond(200, "{\"id\":7}");
        HttpSchemaRegistryClient client = client().build();

        client.register("s", SCHEMA);

        assertThat(client.register("s", SCHEMA)).isEqualTo(7);
        assertThat(client.getId("s", SCHEMA)).isEqualTo(7);
        assertThat(client.getSchemaById(7)).isEqualTo(SCHEMA);
        assertThat(fake.requests()).hasSize(1);
    }

    @Test
    void shouldFetchSchemaByIdOnce() {
        fake.respond(200, "{\"schema\":" + SCHEMA_JSON + "}");
        HttpSchemaRegistryClient client = client().build();

        assertThat(client.getSchemaById(3)).isEqualTo(SCHEMA);
        assertThat(client.getSchemaById(3)).isEqualTo(SCHEMA);
        assertThat(fake.requests()).extracting(FakeRegistry.Request::path).containsExactly("/apis/ccompat/v7/schemas/ids/3");
    }

    @Test
    void shouldRetryServerErrorsWithExponentialBackoff() {
        fake.respond(503, "unavailable").respond(500, "{\"error_code\":50001,\"message\":\"store error\"}")
                .respond(200, "{\"id\":7}");

        int id = client().backoff(Duration.ofMillis(100), Duration.ofSeconds(5)).build().register("s", SCHEMA);

        assertThat(id).isEqualTo(7);
        assertThat(fake.requests()).hasSize(3);
        assertThat(sleeps).containsExactly(Duration.ofMillis(100), Duration.ofMillis(200));
    }

    @Test
    void shouldGiveUpAfterMaxRetriesWithTheLastError() {
        for (int i = 0; i < 4; i++) {
            fake.respond(500, "{\"error_code\":50001,\"message\":\"store error " + i + "\"}");
        }

        assertThatThrownBy(() -> client().maxRetries(3).backoff(Duration.ofMillis(100), Duration.ofMillis(300))
                .build().register("s", SCHEMA))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> {
                    assertThat(e.status()).isEqualTo(500);
                    assertThat(e.errorCode()).isEqualTo(50001);
                    assertThat(e.registryMessage()).isEqualTo("store error 3");
                });
        assertThat(fake.requests()).hasSize(4);
        assertThat(sleeps).containsExactly(Duration.ofMillis(100), Duration.ofMillis(200), Duration.ofMillis(300));
    }

    @Test
    void shouldNotRetryClientErrorsAndSurfaceRegistryErrorCode() {
        fake.respond(409, "{\"error_code\":409,\"message\":\"Schema being registered is incompatible with an earlier schema\"}")
                .respond(404, "{\"error_code\":40403,\"message\":\"Schema not found\"}");

        assertThatThrownBy(() -> client().build().register("s", SCHEMA))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> {
                    assertThat(e.status()).isEqualTo(409);
                    assertThat(e.errorCode()).isEqualTo(409);
                    assertThat(e.registryMessage()).isEqualTo("Schema being registered is incompatible with an earlier schema");
                    assertThat(e.getMessage()).isEqualTo("POST /subjects/s/versions failed: HTTP 409, error_code 409: "
                            + "Schema being registered is incompatible with an earlier schema");
                });
        assertThat(fake.requests()).extracting(FakeRegistry.Request::path)
                .containsExactly("/apis/ccompat/v7/subjects/s/versions", "/apis/ccompat/v7/subjects/s");
        assertThat(sleeps).isEmpty();
    }

    @Test
    void shouldTakeTheIdOfTheSameSchemaAnotherInstanceRegisteredAMomentBefore() {
        fake.respond(409, "{\"error_code\":409,\"message\":\"An artifact with ID 's' in group 'null' already exists.\"}")
                .respond(200, "{\"subject\":\"s\",\"version\":1,\"id\":7,\"schema\":" + SCHEMA_JSON + "}");
        HttpSchemaRegistryClient client = client().build();

        assertThat(client.register("s", SCHEMA)).isEqualTo(7);
        assertThat(client.register("s", SCHEMA)).isEqualTo(7);
        assertThat(fake.requests()).extracting(FakeRegistry.Request::path)
                .containsExactly("/apis/ccompat/v7/subjects/s/versions", "/apis/ccompat/v7/subjects/s");
        assertThat(sleeps).isEmpty();
    }

    @Test
    void shouldRetryConnectionFailureOnTheNextUrl() throws IOException {
        fake.respond(200, "{\"id\":7}");
        String deadUrl = "http://127.0.0.1:" + freePort();

        int id = client(deadUrl, fake.url()).build().register("s", SCHEMA);

        assertThat(id).isEqualTo(7);
        assertThat(sleeps).containsExactly(Duration.ofMillis(100));
    }

    @Test
    void shouldFailUnreachableRegistryAfterRetries() throws IOException {
        String deadUrl = "http://127.0.0.1:" + freePort();

        assertThatThrownBy(() -> client(deadUrl).maxRetries(2).build().getSchemaById(1))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> {
                    assertThat(e.status()).isEqualTo(SchemaRegistryException.NO_RESPONSE);
                    assertThat(e.getMessage()).startsWith("GET /schemas/ids/1 to " + deadUrl + " failed after 3 attempt(s)");
                    assertThat(e.getCause()).isInstanceOf(IOException.class);
                });
        assertThat(sleeps).hasSize(2);
    }

    @Test
    void shouldTimeOutSlowRegistryAndRetry() {
        CountDownLatch hold = new CountDownLatch(1);
        fake.respondAfter(hold, 200, "{\"id\":1}").respond(200, "{\"id\":7}");
        try {
            int id = client().requestTimeout(Duration.ofSeconds(1)).build().register("s", SCHEMA);

            assertThat(id).isEqualTo(7);
            assertThat(sleeps).containsExactly(Duration.ofMillis(100));
        } finally {
            hold.countDown();
        }
    }

    @Test
    void shouldSendBasicAuthFromConfluentConfig() {
        fake.respond(200, "{\"id\":7}");
        HttpSchemaRegistryClient client = HttpSchemaRegistryClient.fromConfig(Map.of(
                "schema.registry.url", fake.url(),
                "basic.auth.credentials.source", "USER_INFO",
                "basic.auth.user.info", "key:secret"));

        client.register("s", SCHEMA);

        assertThat(fake.requests().get(0).authorization())
                .isEqualTo("Basic " + Base64.getEncoder().encodeToString("key:secret".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void shouldSendBearerToken() {
        fake.respond(200, "{\"id\":7}");
        HttpSchemaRegistryClient client = HttpSchemaRegistryClient.fromConfig(Map.of(
                "schema.registry.url", fake.url(),
                "bearer.auth.credentials.source", "STATIC_TOKEN",
                "bearer.auth.token", "t0ken"));

        client.register("s", SCHEMA);

        assertThat(fake.requests().get(0).authorization()).isEqualTo("Bearer t0ken");
    }

    @Test
    void shouldReadCommaSeparatedUrlsAndTimeouts() {
        HttpSchemaRegistryClient client = HttpSchemaRegistryClient.fromConfig(Map.of(
                "schema.registry.url", "http://a:8081, http://b:8081/apis/ccompat/v7",
                "http.read.timeout.ms", "1500", "max.retries", 0));

        assertThat(client.urls()).extracting(Object::toString)
                .containsExactly("http://a:8081", "http://b:8081/apis/ccompat/v7");
    }

    @Test
    void shouldReportEveryConfigProblemAtOnce() {
        assertThatThrownBy(() -> HttpSchemaRegistryClient.fromConfig(Map.of(
                "basic.auth.credentials.source", "USER_INFO",
                "basic.auth.user.info", "no-colon",
                "max.retries", "-1")))
                .isInstanceOf(ConfigException.class)
                .hasMessage("Invalid schema registry configuration: schema.registry.url is required; "
                        + "basic.auth.user.info must be user:password when basic.auth.credentials.source=USER_INFO; "
                        + "max.retries=-1 must be >= 0");
    }

    @Test
    void shouldReadLatestAndSpecificVersions() {
        String body = "{\"subject\":\"s\",\"version\":2,\"id\":9,\"schema\":" + SCHEMA_JSON + "}";
        fake.respond(200, body).respond(200, body);
        HttpSchemaRegistryClient client = client().build();

        assertThat(client.getLatestVersion("s")).isEqualTo(new SchemaVersion("s", 2, 9, SCHEMA));
        assertThat(client.getLatestVersion("s")).isEqualTo(new SchemaVersion("s", 2, 9, SCHEMA));
        assertThat(client.getVersion("s", 2)).isEqualTo(new SchemaVersion("s", 2, 9, SCHEMA));
        assertThat(client.getSchemaById(9)).isEqualTo(SCHEMA);
        assertThat(fake.requests()).extracting(FakeRegistry.Request::path)
                .containsExactly("/apis/ccompat/v7/subjects/s/versions/latest");
    }

    @Test
    void shouldTestCompatibilityAndTreatMissingSubjectAsCompatible() {
        fake.respond(200, "{\"is_compatible\":false}")
                .respond(404, "{\"error_code\":40401,\"message\":\"Subject 'new' not found.\"}");
        HttpSchemaRegistryClient client = client().build();

        assertThat(client.testCompatibility("s", SCHEMA)).isFalse();
        assertThat(client.testCompatibility("new", SCHEMA)).isTrue();
        assertThat(fake.requests().get(0).path()).isEqualTo("/apis/ccompat/v7/compatibility/subjects/s/versions/latest");
    }

    @Test
    void shouldGetAndSetCompatibility() {
        fake.respond(200, "{\"compatibility\":\"FULL\"}")
                .respond(404, "{\"error_code\":40408,\"message\":\"Subject does not have subject-level compatibility configured\"}")
                .respond(200, "{\"compatibilityLevel\":\"BACKWARD\"}");
        HttpSchemaRegistryClient client = client().build();

        client.setCompatibility("my subject", "FULL");

        assertThat(client.getCompatibility("s")).isEqualTo("BACKWARD");
        assertThat(fake.requests()).extracting(r -> r.method() + " " + r.path() + " " + r.body()).containsExactly(
                "PUT /apis/ccompat/v7/config/my%20subject {\"compatibility\":\"FULL\"}",
                "GET /apis/ccompat/v7/config/s?defaultToGlobal=true ",
                "GET /apis/ccompat/v7/config ");
    }

    @Test
    void shouldRefuseUnknownCompatibilityLevelWithoutAskingTheRegistry() {
        assertThatThrownBy(() -> client().build().setCompatibility("s", "sideways"))
                .isExactlyInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("unknown compatibility level 'sideways'");
        assertThat(fake.requests()).isEmpty();
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private static String jsonString(String text) {
        try {
            return new ObjectMapper().writeValueAsString(text);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
