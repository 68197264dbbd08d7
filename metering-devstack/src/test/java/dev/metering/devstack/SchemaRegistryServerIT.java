package dev.metering.devstack;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class SchemaRegistryServerIT {

    private static final String SCHEMA = "{\"type\":\"record\",\"name\":\"Ping\",\"namespace\":\"dev.metering.test\","
            + "\"fields\":[{\"name\":\"orgId\",\"type\":\"string\"}]}";
    private static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";

    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void shouldRegisterSchemaAndServeItById() throws Exception {
        SchemaRegistryServer registry = TestInfra.registry();
        assertThat(registry.confluentUrl()).isEqualTo("http://127.0.0.1:" + registry.port() + "/apis/ccompat/v7");

        HttpResponse<String> registered = register(registry, "devstack.ping-value");
        assertThat(registered.statusCode()).isEqualTo(200);
        String id = registered.body().replaceAll("\\{\"id\":(\\d+)}", "$1");

        HttpResponse<String> again = register(registry, "devstack.ping-value");
        assertThat(again.body()).isEqualTo("{\"id\":" + id + "}");

        HttpResponse<String> byId = get(registry.confluentUrl() + "/schemas/ids/" + id);
        assertThat(byId.statusCode()).isEqualTo(200);
        assertThat(byId.body()).isEqualTo("{\"schema\":" + jsonString(SCHEMA) + ",\"references\":[]}");
    }

    @Test
    void shouldKeepSchemasAcrossRestartWhenGivenDataDir() throws Exception {
        Path dataDir = Dirs.newTempDataDir("registry-");
        try {
            String id;
            SchemaRegistryServer.Options options = SchemaRegistryServer.Options.defaults().withDataDir(dataDir);
            try (SchemaRegistryServer registry = SchemaRegistryServer.start(options)) {
                id = register(registry, "devstack.persistent-value").body().replaceAll("\\{\"id\":(\\d+)}", "$1");
            }
            assertThat(dataDir.resolve("registry.mv.db")).isRegularFile();

            try (SchemaRegistryServer restarted = SchemaRegistryServer.start(options)) {
                assertThat(get(restarted.confluentUrl() + "/subjects").body()).isEqualTo("[\"devstack.persistent-value\"]");
                assertThat(get(restarted.confluentUrl() + "/schemas/ids/" + id).body())
                        .isEqualTo("{\"schema\":" + jsonString(SCHEMA) + ",\"references\":[]}");
            }
        } finally {
            Dirs.deleteRecursively(dataDir);
        }
    }

    private HttpResponse<String> register(SchemaRegistryServer registry, String subject) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create(registry.confluentUrl() + "/subjects/" + subject + "/versions"))
                .header("Content-Type", CONTENT_TYPE)
                .POST(HttpRequest.BodyPublishers.ofString("{\"schema\":" + jsonString(SCHEMA) + "}"))
                .build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(String url) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(url)).header("Accept", CONTENT_TYPE).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static String jsonString(String raw) {
        return "\"" + raw.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}
