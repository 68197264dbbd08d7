package dev.metering.api.it;

import static dev.metering.api.it.ApiServer.ADMIN;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.metering.api.config.KafkaSettings;
import dev.metering.devstack.TestInfra;
import dev.metering.events.Topics;
import dev.metering.events.config.ConfigSource;
import dev.metering.sink.SinkApp;
import dev.metering.sink.SinkConfig;
import dev.metering.streams.StreamsApp;
import dev.metering.streams.StreamsAppConfig;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.jooq.Record;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The validator's bounds match the database: an event with every string at its bound goes through
 * HTTP ingest, the real streams topology and the real sink into PostgreSQL's detail and org tables
 * (no sink dead letter), and values one byte over the bound or with U+0000 are refused at the door
 * per index naming the field, so the stream never counts what the database cannot store.
 */
class EdgeValuesPipelineIT {

    private static final String PREFIX = "it-edge-" + UUID.randomUUID().toString().substring(0, 8) + ".";
    private static final ObjectMapper JSON = new ObjectMapper();

    private static final String ORG = "é".repeat(128); // 256 bytes
    private static final String USER = "\uD83D\uDE00".repeat(64); // 64 emoji, 256 bytes
    private static final String FEATURE = "F" + "_".repeat(63);
    private static final String PROVIDER = "p".repeat(256);
    private static final String MODEL = "ü".repeat(128);

    private static ApiServer server;
    private static StreamsApp streams;
    private static SinkApp.RunningSink sink;

    @BeforeAll
    static void start() throws Exception {
        server = ApiServer.startWithKafka("billing_edge_values", KafkaSettings.of(TestInfra.kafka().bootstrapServers(),
                TestInfra.registry().confluentUrl(), new Topics(PREFIX)));
        Map<String, String> env = PipelineEnv.of(PREFIX, "edge-values", server.jdbcUrl, false);
        streams = StreamsApp.start(StreamsAppConfig.from(ConfigSource.of(env)));
        assertThat(streams.awaitRunning(Duration.ofSeconds(60))).isTrue();
        sink = SinkApp.start(SinkConfig.from(ConfigSource.of(env)));
    }

    @AfterAll
    static void stop() {
        if (sink != null) {
            sink.close();
        }
        if (streams != null) {
            streams.close();
        }
        server.close();
    }

    private static ObjectNode edgeEvent(String eventId) {
        ObjectNode e = JSON.createObjectNode()
                .put("eventId", eventId + "x".repeat(256 - eventId.length()))
                .put("orgId", ORG)
                .put("occurredAt", "2026-11-22T17:10:00Z")
                .put("feature", FEATURE)
                .put("userId", USER)
                .put("conversationId", "c".repeat(256))
                .put("provider", PROVIDER)
                .put("model", MODEL)
                .put("source", "s".repeat(256))
                .put("inputTokens", 1_000_000_000L);
        ObjectNode attributes = e.putObject("attributes");
        for (int i = 0; i < 32; i++) {
            attributes.put(String.format("%064d", i), "v".repeat(256));
        }
        return e;
    }

    @Test
    void shouldStoreEveryFieldAtItsBoundAndRefuseOneByteMoreAtTheDoor() {
        ArrayNode batch = JSON.createArrayNode();
        batch.add(edgeEvent("edge-1"));
        batch.add(edgeEvent("edge-2").put("userId", "u".repeat(257)));
        batch.add(edgeEvent("edge-3").put("userId", "bob\u0000"));
        ObjectNode tooMany = edgeEvent("edge-4");
        ((ObjectNode) tooMany.get("attributes")).put("one-more", "v");
        batch.add(tooMany);
        batch.add(edgeEvent("edge-5").put("model", "m".repeat(2704)));
        batch.add(edgeEvent("edge-6").put("orgId", ORG + "e"));
        batch.add(edgeEvent("edge-7").put("source", "chat\n"));

        ApiServer.Response r = server.post("/api/v1/events", ADMIN, batch.toString());

        assertThat(r.status()).as(r.body()).isEqualTo(202);
        assertThat(r.json().get("accepted").asInt()).isEqualTo(1);
        assertThat(rejected(r)).containsExactly("1 userId TOO_LONG", "2 userId INVALID_CHARACTER",
                "3 attributes TOO_MANY", "4 model TOO_LONG", "5 orgId TOO_LONG", "6 source INVALID_CHARACTER");

        ApiServer.Response none = server.post("/api/v1/events", ADMIN, "[" + edgeEvent("edge-8").put("provider",
                "open\u0000ai") + "]");
        assertThat(none.json().get("accepted").asInt()).as(none.body()).isZero();
        assertThat(rejected(none)).containsExactly("0 provider INVALID_CHARACTER");

        await().atMost(Duration.ofSeconds(90)).untilAsserted(() -> {
            List<Record> rows = server.db.resultQuery("select user_id, feature, provider, model, events, input_tokens "
                    + "from metering.usage_hourly where org_id = ?", ORG).fetch();
            assertThat(rows).hasSize(1);
            Record row = rows.get(0);
            assertThat(row.get("user_id", String.class)).isEqualTo(USER);
            assertThat(row.get("feature", String.class)).isEqualTo(FEATURE);
            assertThat(row.get("provider", String.class)).isEqualTo(PROVIDER);
            assertThat(row.get("model", String.class)).isEqualTo(MODEL);
            assertThat(row.get("events", Long.class)).isEqualTo(1L);
            assertThat(row.get("input_tokens", Long.class)).isEqualTo(1_000_000_000L);
            assertThat(server.db.fetchValue("select sum(events) from metering.org_usage_hourly where org_id = ?", ORG)
                    .toString()).isEqualTo("1");
        });
        assertThat(server.db.fetchValue("select count(*) from metering.dead_letters").toString()).isEqualTo("0");
        assertThat(USER.getBytes(StandardCharsets.UTF_8)).hasSize(256);
    }

    private static List<String> rejected(ApiServer.Response r) {
        List<String> out = new ArrayList<>();
        r.json().get("rejected").forEach(x -> out.add(x.get("index").asInt() + " " + x.get("field").asText() + " "
                + x.get("code").asText()));
        return out;
    }
}
