package dev.metering.app.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.events.Topics;
import dev.metering.events.config.ConfigSource;
import dev.metering.events.config.DbSettings;
import dev.metering.events.config.KafkaClientProperties;
import dev.metering.sink.SinkApp;
import dev.metering.streams.StreamsApp;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * Every few seconds, a compact line block: events in per second (read by the streams service),
 * accepted into aggregates, window rows the sink wrote, the streams consumer lag, dead letters by
 * reason (from PostgreSQL), the top orgs by cost today (PostgreSQL), the demo traffic's check
 * answers (allowed and sent, refused by code, without an answer) and the busy trial org's answer
 * from the real check endpoint.
 */
public final class DemoSummary implements AutoCloseable {

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss");

    private final StreamsApp streams;
    private final SinkApp.RunningSink sink;
    private final String apiUrl;
    private final String token;
    private final DbSettings db;
    private final Admin admin;
    private final String eventsTopic;
    private final String applicationId;
    private final PrintStream out;
    private final DemoTraffic traffic;
    private final Duration every;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final ObjectMapper json = new ObjectMapper();
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "demo-summary");
        t.setDaemon(true);
        return t;
    });
    private double lastIn;
    private double lastAccepted;
    private double lastRows;
    private long lastAt = System.nanoTime();

    private DemoSummary(Map<String, String> env, StreamsApp streams, SinkApp.RunningSink sink, String apiUrl,
                        String token, DemoTraffic traffic, Duration every, PrintStream out) {
        this.streams = streams;
        this.sink = sink;
        this.apiUrl = apiUrl;
        this.token = token;
        ConfigSource source = ConfigSource.of(env);
        this.db = DbSettings.from(source);
        String bootstrap = source.requiredString(KafkaClientProperties.BOOTSTRAP);
        this.eventsTopic = Topics.from(source).events();
        this.applicationId = source.string("METERING_STREAMS_APPLICATION_ID", "metering-streams");
        source.throwIfInvalid();
        this.admin = Admin.create(Map.of("bootstrap.servers", bootstrap));
        this.traffic = traffic;
        this.every = every;
        this.out = out;
    }

    public static DemoSummary start(Map<String, String> env, StreamsApp streams, SinkApp.RunningSink sink, String apiUrl,
                                    String token, DemoTraffic traffic, Duration every, PrintStream out) {
        DemoSummary s = new DemoSummary(env, streams, sink, apiUrl, token, traffic, every, out);
        s.scheduler.scheduleWithFixedDelay(s::printSafely, every.toMillis(), every.toMillis(), TimeUnit.MILLISECONDS);
        return s;
    }

    private void printSafely() {
        try {
            out.print(render());
        } catch (Exception e) {
            out.println("[" + LocalTime.now().format(TIME) + "] summary unavailable: " + e);
        }
    }

    String render() throws Exception {
        long now = System.nanoTime();
        double seconds = Math.max(0.001, (now - lastAt) / 1e9);
        double in = counter(streams.metrics().registry(), "metering_streams_events_in");
        double accepted = counter(streams.metrics().registry(), "metering_streams_accepted");
        double duplicates = counter(streams.metrics().registry(), "metering_streams_duplicates");
        double rows = counter(sink.metricsRegistry(), "metering_sink_rows_upserted");
        String line1 = String.format("[%s] in %.0f/s  aggregated %.0f/s  rows written %.0f/s  lag %d  duplicates dropped %.0f",
                LocalTime.now().format(TIME), (in - lastIn) / seconds, (accepted - lastAccepted) / seconds,
                (rows - lastRows) / seconds, lag(), duplicates);
        lastIn = in;
        lastAccepted = accepted;
        lastRows = rows;
        lastAt = now;
        StringBuilder sb = new StringBuilder(line1).append('\n');
        try (Connection c = db.connect(); Statement st = c.createStatement()) {
            List<String> dead = new ArrayList<>();
            try (ResultSet rs = st.executeQuery("SELECT reason, count(*) FROM metering.dead_letters GROUP BY reason ORDER BY reason")) {
                while (rs.next()) {
                    dead.add(rs.getString(1) + " " + rs.getLong(2));
                }
            }
            sb.append("  dead letters: ").append(dead.isEmpty() ? "none" : String.join(", ", dead)).append('\n');
            List<String> top = new ArrayList<>();
            try (ResultSet rs = st.executeQuery("SELECT org_id, SUM(cost_usd) AS cost, SUM(events) AS events "
                    + "FROM metering.org_usage_daily WHERE window_start = date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' "
                    + "GROUP BY org_id ORDER BY cost DESC, org_id LIMIT 3")) {
                while (rs.next()) {
                    top.add(rs.getString(1) + " $" + rs.getBigDecimal(2).setScale(4, RoundingMode.HALF_UP).toPlainString()
                            + " (" + rs.getLong(3) + " events)");
                }
            }
            sb.append("  top orgs by cost today: ").append(top.isEmpty() ? "none yet" : String.join(", ", top)).append('\n');
        }
        sb.append("  ").append(traffic.checks()).append('\n');
        String problem = traffic.lastCheckProblem();
        if (problem != null) {
            sb.append("  last check without an answer: ").append(problem).append('\n');
        }
        sb.append("  ").append(check(DemoTraffic.hotOrg())).append('\n');
        return sb.toString();
    }

    private String check(String org) {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(apiUrl + "/api/v1/usage/" + org
                    + "/check/CHAT_MESSAGE")).header("Authorization", "Bearer " + token).timeout(Duration.ofSeconds(3))
                    .GET().build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                return "check " + org + " CHAT_MESSAGE -> HTTP " + r.statusCode() + " " + r.body();
            }
            JsonNode b = json.readTree(r.body());
            String usage = "";
            for (JsonNode l : b.path("limits")) {
                if ("daily-messages".equals(l.path("id").asText())) {
                    usage = ", daily-messages " + new BigDecimal(l.path("used").asText()).toPlainString() + "/"
                            + new BigDecimal(l.path("limit").asText()).toPlainString();
                }
            }
            return "check " + org + " (" + b.path("plan").asText() + ") CHAT_MESSAGE -> allowed=" + b.path("allowed").asBoolean()
                    + (b.path("code").isTextual() ? " " + b.path("code").asText() + " (HTTP " + b.path("suggestedStatus").asInt()
                    + ")" : "") + usage;
        } catch (Exception e) {
            return "check " + org + " failed: " + e;
        }
    }

    private long lag() throws Exception {
        Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(applicationId)
                .partitionsToOffsetAndMetadata().get(5, TimeUnit.SECONDS);
        var partitions = admin.describeTopics(List.of(eventsTopic)).allTopicNames().get(5, TimeUnit.SECONDS)
                .get(eventsTopic).partitions();
        Map<TopicPartition, OffsetSpec> request = new java.util.HashMap<>();
        partitions.forEach(p -> request.put(new TopicPartition(eventsTopic, p.partition()), OffsetSpec.latest()));
        var ends = admin.listOffsets(request).all().get(5, TimeUnit.SECONDS);
        long lag = 0;
        for (var e : ends.entrySet()) {
            OffsetAndMetadata c = committed.get(e.getKey());
            lag += e.getValue().offset() - (c == null ? 0 : c.offset());
        }
        return lag;
    }

    public static double counter(PrometheusRegistry registry, String name) {
        double sum = 0;
        for (MetricSnapshot s : registry.scrape()) {
            if (s instanceof CounterSnapshot c && (c.getMetadata().getName().equals(name)
                    || c.getMetadata().getPrometheusName().equals(name))) {
                for (var d : c.getDataPoints()) {
                    sum += d.getValue();
                }
            }
        }
        return sum;
    }

    @Override
    public void close() {
        scheduler.shutdownNow();
        admin.close(Duration.ofSeconds(2));
    }
}
