package dev.metering.events.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.devstack.MutableClock;
import java.io.IOException;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@link HttpSchemaRegistryClient} against a registry that misbehaves on purpose. */
class HttpSchemaRegistryHardeningTest {

    private static final Schema SCHEMA = SchemaBuilder.record("E").namespace("t").fields()
            .requiredString("id").endRecord();
    private static final String SCHEMA_ANSWER = "{\"schema\":" + json(SCHEMA.toString()) + "}";

    private final List<AutoCloseable> servers = new ArrayList<>();
    private final MutableClock clock = new MutableClock(Instant.parse("2026-12-06T10:00:00Z"));

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable s : servers) {
            s.close();
        }
    }

    private HostileRegistry registry(HostileRegistry.Handler handler) {
        HostileRegistry r = new HostileRegistry(handler);
        servers.add(r);
        return r;
    }

    private HttpSchemaRegistryClient.Builder client(String url) {
        return HttpSchemaRegistryClient.builder(url).clock(clock).sleeper(d -> { }).maxRetries(0);
    }

    @Test
    void shouldRefuseAnEndlessBodyAfterTheCapWithoutReadingTheRest() throws Exception {
        long total = 64L << 20;
        AtomicLong written = new AtomicLong();
        CountDownLatch done = new CountDownLatch(1);
        HostileRegistry hostile = registry(exchange -> {
            try {
                exchange.sendResponseHeaders(200, 0); // chunked, no length announced
                byte[] chunk = new byte[8192];
                java.util.Arrays.fill(chunk, (byte) ' ');
                OutputStream out = exchange.getResponseBody();
                while (written.get() < total) {
                    out.write(chunk);
                    written.addAndGet(chunk.length);
                }
            } finally {
                done.countDown();
            }
        });

        assertThatThrownBy(() -> client(hostile.url()).maxResponseBytes(64 << 10).build().getSchemaById(1))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> {
                    assertThat(e.isTransient()).isFalse();
                    assertThat(e).hasMessage("GET /schemas/ids/1 returned a body over 65536 bytes "
                            + "(http.max.response.bytes); not read");
                });
        assertThat(done.await(30, TimeUnit.SECONDS)).isTrue();
        assertThat(written.get()).isLessThan(total);
    }

    @Test
    void shouldRefuseABodyAnnouncedOverTheCapBeforeReadingIt() {
        HostileRegistry hostile = registry(exchange -> {
            exchange.sendResponseHeaders(200, 400L << 20);
            exchange.getResponseBody().write(new byte[1024]);
        });

        assertThatThrownBy(() -> client(hostile.url()).build().getSchemaById(1))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.isTransient()).isFalse())
                .hasMessageContaining("returned a body over 1048576 bytes");
    }

    @Test
    void shouldBoundADrippingBodyByTheRequestTimeout() {
        HostileRegistry hostile = registry(exchange -> {
            exchange.sendResponseHeaders(200, 0);
            OutputStream out = exchange.getResponseBody();
            for (int i = 0; i < 600; i++) {
                out.write('{');
                out.flush();
                try {
                    Thread.sleep(100); // the server drips; the test waits on the client's bound
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        long start = System.nanoTime();

        assertThatThrownBy(() -> client(hostile.url()).requestTimeout(Duration.ofSeconds(1)).build().getSchemaById(1))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.isTransient()).isTrue())
                .hasMessageContaining("did not complete within PT1S");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(30));
    }

    @Test
    void shouldNotFollowARedirectToAnotherOriginNorSendItTheCredentials() {
        HostileRegistry elsewhere = registry(exchange -> HostileRegistry.answer(exchange, 200, SCHEMA_ANSWER));
        HostileRegistry redirecting = registry(exchange -> {
            exchange.getResponseHeaders().add("Location", elsewhere.url() + "/schemas/ids/1");
            exchange.sendResponseHeaders(307, -1);
        });

        assertThatThrownBy(() -> client(redirecting.url()).basicAuth("key", "secret").build().getSchemaById(1))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> {
                    assertThat(e.isTransient()).isFalse();
                    assertThat(e.status()).isEqualTo(307);
                })
                .hasMessageContaining("redirected (HTTP 307) to another origin, " + elsewhere.url())
                .hasMessageContaining("set schema.registry.url to the registry's real address");
        assertThat(elsewhere.seen()).isEmpty();
        assertThat(redirecting.seen()).hasSize(1);
    }

    @Test
    void shouldFollowASameOriginRedirectWithTheCredentials() {
        HostileRegistry registry = registry(exchange -> {
            if (exchange.getRequestURI().getPath().startsWith("/old/")) {
                exchange.getResponseHeaders().add("Location", "/new/schemas/ids/1");
                exchange.sendResponseHeaders(308, -1);
            } else {
                HostileRegistry.answer(exchange, 200, SCHEMA_ANSWER);
            }
        });

        Schema schema = client(registry.url() + "/old").basicAuth("key", "secret").build().getSchemaById(1);

        assertThat(schema).isEqualTo(SCHEMA);
        assertThat(registry.seen()).extracting(HostileRegistry.Seen::path)
                .containsExactly("/old/schemas/ids/1", "/new/schemas/ids/1");
        assertThat(registry.seen()).extracting(HostileRegistry.Seen::authorization).containsOnly("Basic a2V5OnNlY3JldA==");
    }

    @Test
    void shouldStopFollowingAnEndlessSameOriginRedirectLoop() {
        HostileRegistry registry = registry(exchange -> {
            exchange.getResponseHeaders().add("Location", exchange.getRequestURI().getPath());
            exchange.sendResponseHeaders(302, -1);
        });

        assertThatThrownBy(() -> client(registry.url()).build().getSchemaById(1))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.isTransient()).isFalse())
                .hasMessage("GET /schemas/ids/1 was redirected more than 5 times");
        assertThat(registry.seen()).hasSize(6);
    }

    @Test
    void shouldAskOncePerTtlForAnIdRefusedForGood() {
        HostileRegistry registry = registry(exchange -> HostileRegistry.answer(exchange, 404,
                "{\"error_code\":40403,\"message\":\"Schema not found\"}"));
        HttpSchemaRegistryClient client = client(registry.url()).missingIdCacheTtl(Duration.ofSeconds(30)).build();

        for (int i = 0; i < 1000; i++) {
            assertThatThrownBy(() -> client.getSchemaById(7))
                    .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.errorCode()).isEqualTo(40403));
        }
        assertThatThrownBy(() -> client.getSchemaById(8)).isInstanceOf(SchemaRegistryException.class);
        assertThat(registry.seen()).hasSize(2);

        clock.advance(Duration.ofSeconds(30));
        assertThatThrownBy(() -> client.getSchemaById(7)).isInstanceOf(SchemaRegistryException.class);
        assertThat(registry.seen()).extracting(HostileRegistry.Seen::path)
                .containsExactly("/schemas/ids/7", "/schemas/ids/8", "/schemas/ids/7");
    }

    @Test
    void shouldRememberARefusalButNotAnOutage() {
        AtomicLong calls = new AtomicLong();
        HostileRegistry registry = registry(exchange -> {
            if (exchange.getRequestURI().getPath().endsWith("/403")) {
                HostileRegistry.answer(exchange, 403, "{\"error_code\":40301,\"message\":\"User cannot access the resource.\"}");
            } else {
                calls.incrementAndGet();
                HostileRegistry.answer(exchange, 503, "{\"error_code\":50302,\"message\":\"unavailable\"}");
            }
        });
        HttpSchemaRegistryClient client = client(registry.url()).build();

        for (int i = 0; i < 3; i++) {
            assertThatThrownBy(() -> client.getSchemaById(403))
                    .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.isTransient()).isFalse());
            assertThatThrownBy(() -> client.getSchemaById(503))
                    .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.isTransient()).isTrue());
        }
        assertThat(registry.seen().stream().filter(s -> s.path().endsWith("/403"))).hasSize(1);
        assertThat(calls.get()).isEqualTo(3);
    }

    @Test
    void shouldRefuseSchemaTextOverTheBound() {
        Schema big = SchemaBuilder.record("Big").namespace("t").doc("x".repeat(300_000)).fields()
                .requiredString("id").endRecord();
        HostileRegistry registry = registry(exchange -> HostileRegistry.answer(exchange, 200,
                "{\"schema\":" + json(big.toString()) + "}"));

        assertThatThrownBy(() -> client(registry.url()).build().getSchemaById(1))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.isTransient()).isFalse())
                .hasMessage("GET /schemas/ids/1 returned schema text over 262144 bytes (max.schema.bytes)");
        assertThat(client(registry.url()).maxSchemaBytes(400_000).build().getSchemaById(1)).isEqualTo(big);
    }

    @Test
    void shouldClassifyAnswersAsDataOrTransient() throws IOException {
        Map<String, String> answers = Map.of(
                "/schemas/ids/1", "200 {\"schemaType\":\"JSON\",\"schema\":\"{\\\"type\\\":\\\"object\\\"}\"}",
                "/schemas/ids/2", "200 {\"schema\":\"{\\\"type\\\":\\\"recrod\\\"}\"}",
                "/schemas/ids/3", "403 {\"error_code\":40301,\"message\":\"forbidden\"}",
                "/schemas/ids/4", "401 <html>login</html>",
                "/schemas/ids/5", "429 {\"error_code\":429,\"message\":\"slow down\"}",
                "/schemas/ids/6", "502 <html>bad gateway</html>",
                "/schemas/ids/7", "200 <html>a captive portal</html>");
        HostileRegistry registry = registry(exchange -> {
            String answer = answers.get(exchange.getRequestURI().getPath());
            int space = answer.indexOf(' ');
            HostileRegistry.answer(exchange, Integer.parseInt(answer.substring(0, space)), answer.substring(space + 1));
        });
        HttpSchemaRegistryClient client = client(registry.url()).build();

        assertThat(transientness(client, 1)).isEqualTo("data: GET /schemas/ids/1 returned a \"JSON\" schema, not AVRO");
        assertThat(transientness(client, 2)).startsWith("data: GET /schemas/ids/2 returned a schema Avro cannot parse: ");
        assertThat(transientness(client, 3)).isEqualTo("data: GET /schemas/ids/3 failed: HTTP 403, error_code 40301: forbidden");
        assertThat(transientness(client, 4)).isEqualTo("data: GET /schemas/ids/4 failed: HTTP 401, error_code 401: <html>login</html>");
        assertThat(transientness(client, 5)).startsWith("transient: GET /schemas/ids/5 failed: HTTP 429");
        assertThat(transientness(client, 6)).startsWith("transient: GET /schemas/ids/6 failed: HTTP 502");
        assertThat(transientness(client, 7)).startsWith("data: GET /schemas/ids/7 returned a body that is not JSON");
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        assertThat(transientness(client("http://127.0.0.1:" + closedPort).build(), 1)).startsWith("transient: ");
    }

    private static String transientness(HttpSchemaRegistryClient client, int id) {
        try {
            client.getSchemaById(id);
            return "answered";
        } catch (SchemaRegistryException e) {
            return (e.isTransient() ? "transient: " : "data: ") + e.getMessage();
        }
    }

    private static String json(String text) {
        try {
            return new ObjectMapper().writeValueAsString(text);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
