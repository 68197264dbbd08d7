package dev.metering.api.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.metering.api.it.ApiServer.Response;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** GET /openapi.json against the routes the running server registered: neither may have what the other lacks. */
class OpenApiIT {

    private static final Set<String> METHODS = Set.of("get", "put", "post", "delete", "patch", "head", "options");

    private static ApiServer server;

    @BeforeAll
    static void start() {
        server = ApiServer.start("billing_openapi");
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void shouldDescribeExactlyTheRegisteredRoutes() {
        Response r = server.get("/openapi.json", null);

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().get("openapi").asText()).startsWith("3.");
        Set<String> documented = new TreeSet<>();
        for (Iterator<Map.Entry<String, JsonNode>> paths = r.json().get("paths").fields(); paths.hasNext(); ) {
            Map.Entry<String, JsonNode> path = paths.next();
            path.getValue().fieldNames().forEachRemaining(m -> {
                if (METHODS.contains(m)) {
                    documented.add(m.toUpperCase() + " " + path.getKey());
                }
            });
        }
        assertThat(documented).containsExactlyInAnyOrderElementsOf(server.api.routes());
        assertThat(server.api.routes()).contains("POST /api/v1/events", "GET /api/v1/usage/{orgId}/report",
                "GET /api/v1/prices", "PUT /api/v1/prices", "GET /api/v1/dead-letters", "GET /api/v1/reports/top-orgs",
                "GET /openapi.json");
    }

    @Test
    void shouldDeclareEveryPathParameterAndResolveEveryReference() {
        JsonNode doc = server.get("/openapi.json", null).json();
        List<String> problems = new ArrayList<>();
        Pattern param = Pattern.compile("\\{([^}]+)}");
        doc.get("paths").fields().forEachRemaining(path -> path.getValue().fields().forEachRemaining(op -> {
            Matcher m = param.matcher(path.getKey());
            while (m.find()) {
                boolean declared = false;
                for (JsonNode p : op.getValue().path("parameters")) {
                    declared |= p.get("in").asText().equals("path") && p.get("name").asText().equals(m.group(1));
                }
                if (!declared) {
                    problems.add(op.getKey() + " " + path.getKey() + ": path parameter " + m.group(1) + " not declared");
                }
            }
            if (!op.getValue().has("responses") || op.getValue().get("responses").isEmpty()) {
                problems.add(op.getKey() + " " + path.getKey() + ": no responses");
            }
        }));
        collectRefs(doc, problems, doc);
        assertThat(problems).isEmpty();
    }

    private static void collectRefs(JsonNode node, List<String> problems, JsonNode doc) {
        if (node.isObject()) {
            JsonNode ref = node.get("$ref");
            if (ref != null && doc.at(ref.asText().substring(1)).isMissingNode()) {
                problems.add("unresolved " + ref.asText());
            }
            node.elements().forEachRemaining(c -> collectRefs(c, problems, doc));
        } else if (node.isArray()) {
            node.elements().forEachRemaining(c -> collectRefs(c, problems, doc));
        }
    }
}
