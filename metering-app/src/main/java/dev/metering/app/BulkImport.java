package dev.metering.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.metering.api.ApiException;
import dev.metering.api.bulk.ImportRows;
import java.io.IOException;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Sends a large import file to the API in batches (CSV: the header repeated), each one atomic on
 * the server, with progress and ETA on stderr; sums the answers, with every invalid row's line
 * number in the FILE. A key repeated across batches (an org, or an org's grantId) is invalid here,
 * as the API refuses it within one request. Re-running after a failure is safe: imports are
 * idempotent, so the batches already written answer unchanged.
 */
final class BulkImport {

    /** One kind of import: its API path, CSV columns, and the key a file may hold once. */
    record Kind(String path, ImportRows.Columns columns, Function<Map<String, String>, String> key,
                Function<Map<String, String>, String> duplicateMessage) {
    }

    static final Kind SUBSCRIPTIONS = new Kind("/api/v1/subscriptions/import", ImportRows.SUBSCRIPTIONS,
            v -> v.get("orgId"), v -> "org '" + v.get("orgId") + "' is already on line ");
    static final Kind CREDITS = new Kind("/api/v1/credits/import", ImportRows.CREDITS,
            v -> v.get("orgId") == null || v.get("grantId") == null ? null : v.get("orgId") + '\u0000' + v.get("grantId"),
            v -> "grant '" + v.get("grantId") + "' of org '" + v.get("orgId") + "' is already on line ");

    private static final String ENTERPRISE_LINES = "enterpriseWithoutOverrideLines";
    private static final int MAX_LISTED_LINES = 100;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    private BulkImport() {
    }

    /** Imports {@code body}; prints the summed answer (JSON) to {@code out}; returns 0, or 1 when rows were invalid. */
    static int run(Kind kind, URI api, String token, String body, boolean csv, int batchSize, boolean dryRun,
                   PrintStream out, PrintStream progress) {
        String text = body.startsWith("\uFEFF") ? body.substring(1) : body;
        List<ImportRows.Row> rows;
        try {
            rows = csv ? ImportRows.csv(text, kind.columns()) : ImportRows.jsonLines(text, kind.columns(), JSON);
        } catch (ApiException e) {
            throw new UserException((e.field() == null ? "" : e.field() + ": ") + e.getMessage());
        }
        String[] lines = text.split("\n", -1);
        String header = null;
        if (csv) {
            int h = 0;
            while (lines[h].strip().isEmpty()) {
                h++;
            }
            header = strip(lines[h]);
        }
        ObjectNode total = JSON.createObjectNode();
        ArrayNode invalid = JSON.createArrayNode();
        List<Integer> enterpriseLines = new ArrayList<>();
        List<Integer> send = new ArrayList<>();
        Map<String, Integer> firstLine = new HashMap<>();
        for (ImportRows.Row row : rows) {
            String key = row.problem() == null ? kind.key().apply(row.values()) : null;
            Integer earlier = key == null ? null : firstLine.putIfAbsent(key, row.line());
            if (earlier != null) {
                invalid.add(problem(row.line(), key.contains("\u0000") ? "grantId" : "orgId",
                        kind.duplicateMessage().apply(row.values()) + earlier));
            } else {
                send.add(row.line());
            }
        }
        long started = System.nanoTime();
        for (int from = 0; from < send.size(); from += batchSize) {
            List<Integer> batch = send.subList(from, Math.min(send.size(), from + batchSize));
            StringBuilder b = new StringBuilder();
            if (header != null) {
                b.append(header).append('\n');
            }
            batch.forEach(line -> b.append(strip(lines[line - 1])).append('\n'));
            JsonNode answer = post(api.resolve(kind.path().substring(1) + "?dryRun=" + dryRun), token, csv, b.toString());
            int offset = header != null ? 2 : 1;
            answer.get("invalid").forEach(p -> invalid.add(problem(
                    p.get("line").asInt() >= offset ? batch.get(p.get("line").asInt() - offset) : p.get("line").asInt(),
                    p.get("field").asText(), p.get("message").asText())));
            answer.path(ENTERPRISE_LINES).forEach(l -> enterpriseLines.add(batch.get(l.asInt() - offset)));
            add(total, answer);
            progress(progress, from + batch.size(), send.size(), started);
        }
        total.put("rows", rows.size());
        List<JsonNode> sorted = new ArrayList<>();
        invalid.forEach(sorted::add);
        sorted.sort((x, y) -> Integer.compare(x.get("line").asInt(), y.get("line").asInt()));
        total.set("invalid", JSON.valueToTree(sorted));
        if (total.has("enterpriseWithoutOverride")) {
            total.set(ENTERPRISE_LINES, JSON.valueToTree(enterpriseLines.stream().limit(MAX_LISTED_LINES).toList()));
        }
        long enterprise = total.path("enterpriseWithoutOverride").asLong(0);
        if (enterprise > 0) {
            // seed 003's "enterprise subscriptions without metadata": worth a look before the real run
            progress.println("warning: " + enterprise + " enterprise row(s) without an override.* value get the plan's "
                    + "default limits; lines " + enterpriseLines.stream().limit(MAX_LISTED_LINES).toList()
                    + (enterprise > MAX_LISTED_LINES ? " ..." : ""));
        }
        try {
            out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(total));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        if (dryRun) {
            out.println("dry run: nothing written");
        }
        return sorted.isEmpty() ? 0 : 1;
    }

    private static JsonNode post(URI uri, String token, boolean csv, String body) {
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(Duration.ofMinutes(5))
                .header("Authorization", "Bearer " + token)
                .header("Content-Type", csv ? "text/csv" : "application/x-ndjson")
                .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8)).build();
        try {
            HttpResponse<String> r = HTTP.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            if (r.statusCode() != 200) {
                throw new UserException("the API answered " + r.statusCode() + " to " + uri + ": " + r.body()
                        + " (batches before this one were written; fix and run again: it is idempotent)");
            }
            return JSON.readTree(r.body());
        } catch (IOException e) {
            throw new UserException("cannot reach the API at " + uri + ": " + e.getMessage()
                    + " (run again once it answers: the import is idempotent)");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UserException("interrupted");
        }
    }

    /** Sums counts, decimal strings (money) and per-key counts (byPlan) of one batch's answer into {@code total}. */
    private static void add(ObjectNode total, JsonNode answer) {
        for (Iterator<Map.Entry<String, JsonNode>> it = answer.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            JsonNode v = f.getValue();
            if (v.isIntegralNumber()) {
                total.put(f.getKey(), total.path(f.getKey()).asLong(0) + v.asLong());
            } else if (v.isTextual()) {
                BigDecimal sum = new BigDecimal(total.path(f.getKey()).asText("0")).add(new BigDecimal(v.asText()));
                total.put(f.getKey(), sum.signum() == 0 ? "0" : sum.stripTrailingZeros().toPlainString());
            } else if (v.isObject()) {
                ObjectNode into = total.has(f.getKey()) ? (ObjectNode) total.get(f.getKey()) : total.putObject(f.getKey());
                v.fields().forEachRemaining(e -> into.put(e.getKey(), into.path(e.getKey()).asLong(0) + e.getValue().asLong()));
            }
        }
    }

    private static void progress(PrintStream progress, int done, int all, long startedNanos) {
        double seconds = (System.nanoTime() - startedNanos) / 1e9;
        double rate = seconds > 0 ? done / seconds : 0;
        long eta = rate > 0 ? Math.round((all - done) / rate) : 0;
        int width = 30;
        int filled = all == 0 ? width : (int) ((long) done * width / all);
        progress.printf("\r[%s%s] %d/%d rows, %.0f rows/s, ETA %ds", "#".repeat(filled), " ".repeat(width - filled),
                done, all, rate, eta);
        if (done == all) {
            progress.println();
        }
    }

    private static ObjectNode problem(int line, String field, String message) {
        ObjectNode p = JSON.createObjectNode();
        p.put("line", line);
        p.put("field", field);
        p.put("message", message);
        return p;
    }

    private static String strip(String line) {
        return line.endsWith("\r") ? line.substring(0, line.length() - 1) : line;
    }
}
