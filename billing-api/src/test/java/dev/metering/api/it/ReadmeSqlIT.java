package dev.metering.api.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.metering.api.plan.ExampleCatalogs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jooq.Result;
import org.jooq.Record;
import org.junit.jupiter.api.Test;

/** Every ```sql block of docs/operations.md runs as written, and the near-limit reports find the right orgs. */
class ReadmeSqlIT {

    private static List<String> readmeQueries() throws Exception {
        String readme = Files.readString(Path.of("..", "docs", "operations.md"));
        Matcher m = Pattern.compile("```sql\\n(.*?)```", Pattern.DOTALL).matcher(readme);
        List<String> out = new ArrayList<>();
        while (m.find()) {
            out.add(m.group(1).trim());
        }
        return out;
    }

    @Test
    void shouldRunEveryReadmeQueryAsWritten() throws Exception {
        try (ApiServer server = ApiServer.start("billing_readme_sql")) {
            server.applyCatalog(ExampleCatalogs.text(ExampleCatalogs.SEED_003));
            // wall-clock "now": the SQL uses now(); the API's clock is irrelevant here
            Instant now = Instant.now();
            server.subscribe("team-near", "{\"planId\":\"team\",\"seats\":2,\"periodStart\":\""
                    + now.minus(1, ChronoUnit.DAYS).truncatedTo(ChronoUnit.SECONDS) + "\",\"periodEnd\":\""
                    + now.plus(20, ChronoUnit.DAYS).truncatedTo(ChronoUnit.SECONDS) + "\"}");
            server.sink.cost("team-near", "WORKFLOW_RUN", now.minus(1, ChronoUnit.MINUTES), "70");
            server.sink.cost("team-far", "WORKFLOW_RUN", now.minus(1, ChronoUnit.MINUTES), "1");
            server.check("team-near", "WORKFLOW_RUN", null);
            server.api.close(); // flushes check outcome counters

            List<String> queries = readmeQueries();
            assertThat(queries).hasSize(7);
            List<Result<Record>> results = new ArrayList<>();
            for (String q : queries) {
                results.add(server.db.fetch(q));
            }
            assertThat(results.get(0)).hasSize(1);
            assertThat(results.get(0).get(0).get("checks", Long.class)).isEqualTo(1L);
            assertThat(results.get(1)).singleElement()
                    .satisfies(r -> assertThat(r.get("org_id", String.class)).isEqualTo("team-near"));
            assertThat(results.get(2)).extracting(r -> r.get("org_id", String.class)).containsExactly("team-near", "team-far");
        }
    }
}
