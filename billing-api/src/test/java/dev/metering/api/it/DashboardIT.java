package dev.metering.api.it;

import static dev.metering.api.it.ApiServer.ADMIN;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.api.check.EnforcementMode;
import dev.metering.api.check.StalePolicy;
import dev.metering.api.config.KafkaSettings;
import dev.metering.api.it.ApiServer.Response;
import dev.metering.devstack.TestInfra;
import dev.metering.events.Topics;
import dev.metering.events.config.ConfigSource;
import dev.metering.sink.SinkApp;
import dev.metering.sink.SinkConfig;
import dev.metering.streams.StreamsApp;
import dev.metering.streams.StreamsAppConfig;
import dev.metering.streams.pricing.PriceBook;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.logging.Level;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The dashboard in a real browser (Debian's chromium, headless, through chromedriver) against the
 * real API on a random port, fed by real events: POST /api/v1/events → the real streams topology
 * (in-process, priced, event log on) → the real sink → PostgreSQL, on the shared broker, registry
 * and PostgreSQL. What the pages show is what the JSON endpoints answer, keys see only what they
 * may, user data renders as text, refreshes change values in place, and nothing is loaded from
 * anywhere but the server.
 *
 * <p>The sink stamps its progress ({@code usageAsOf}) with the system clock, so the API's clock is
 * set once to the wall clock at start (then held): the page's "last 24 hours" and the events'
 * times then agree with the freshness the sink reports. Expected numbers never depend on the hour.
 */
class DashboardIT {

    private static final String PREFIX = "it-dash-" + UUID.randomUUID().toString().substring(0, 8) + ".";
    private static final String CATALOG = """
            defaultPlan: free
            plans:
              - id: free
                limits:
                  - { id: messages-per-day, feature: CHAT_MESSAGE, meter: quantity, window: day, scope: org, max: 200 }
                  - { id: tokens-per-month, meter: tokens, window: month, scope: org, max: 2000000 }
                  - { id: spend-per-period, meter: cost_usd, window: billing_period, scope: org, max: "2.5", enforcement: soft }
              - id: pro
                limits:
                  - { id: messages-per-day, feature: CHAT_MESSAGE, meter: quantity, window: day, scope: org, max: 5000 }
            """;
    private static final String PRICES = "provider,model,input_per_1m_usd,cached_input_per_1m_usd,output_per_1m_usd,effective_from\n"
            + "openai,gpt-4o,2.50,1.25,10.00,2025-01-01\n"
            + "anthropic,claude-sonnet,3.00,0.30,15.00,2025-01-01\n";
    private static final String HOSTILE = "<img src=x onerror=\"window.__xss=1\">";
    private static final ZoneId BROWSER_ZONE = ZoneId.of("Asia/Kolkata");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path TARGET = Path.of("target");

    private static ApiServer server;
    private static StreamsApp streams;
    private static SinkApp.RunningSink sink;
    private static Instant now;
    private static String base;
    private static String acmeKey;
    private static ChromeDriver browser;
    private static WebDriverWait wait;

    @BeforeAll
    static void start() throws Exception {
        server = ApiServer.startWithKafkaAndEventLog("billing_dashboard", KafkaSettings.of(TestInfra.kafka().bootstrapServers(),
                TestInfra.registry().confluentUrl(), new Topics(PREFIX)));
        now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        // a minute early until the grants exist: the detector scans for expiring credits once a minute
        server.clock.set(now.minusSeconds(60));
        base = "http://127.0.0.1:" + server.api.port();
        Map<String, String> env = PipelineEnv.of(PREFIX, "dashboard", server.jdbcUrl, true);
        streams = StreamsApp.start(StreamsAppConfig.from(ConfigSource.of(env)));
        assertThat(streams.awaitRunning(Duration.ofSeconds(60))).isTrue();
        sink = SinkApp.start(SinkConfig.from(ConfigSource.of(env)));

        server.applyCatalog(CATALOG);
        assertThat(server.put("/api/v1/prices", ADMIN, "text/csv", PRICES).status()).isEqualTo(200);
        awaitPrice("openai/gpt-4o");
        awaitPrice("anthropic/claude-sonnet");
        server.subscribe("acme", "{\"planId\":\"free\",\"periodStart\":\"" + now.minus(10, ChronoUnit.DAYS)
                + "\",\"periodEnd\":\"" + now.plus(20, ChronoUnit.DAYS) + "\"}");
        acmeKey = server.createKey("acme", "read")[1];
        assertThat(server.post("/api/v1/orgs/acme/credits", ADMIN, "{\"amountUsd\":\"10\",\"reason\":\"prepaid pack\","
                + "\"expiresAt\":\"" + now.plus(5, ChronoUnit.DAYS) + "\"}").status()).isEqualTo(201);
        assertThat(server.post("/api/v1/orgs/acme/credits", ADMIN, "{\"amountUsd\":\"5.5\",\"reason\":\"goodwill\"}")
                .status()).isEqualTo(201);
        server.clock.set(now);

        // today's messages (a minute ago, or at midnight when the day is younger): 170 of 200
        Instant today = now.truncatedTo(ChronoUnit.DAYS);
        Instant chatAt = now.minusSeconds(60).isBefore(today) ? today : now.minusSeconds(60);
        String events = "[" + String.join(",",
                chat("acme", "ann", "m-1", chatAt, 170),
                ai("acme", "ann", "a-1", "openai", "gpt-4o", now.minusSeconds(300), 600_000, 90_000), // 2.4 USD
                ai("acme", "bob", "a-2", "anthropic", "claude-sonnet", now.minusSeconds(3 * 3600), 200_000, 40_000), // 1.2
                chat("acme", "bob", "m-2", now.minusSeconds(30 * 3600), 70),
                ai("acme", "cy", "a-3", "openai", "gpt-4o", now.minusSeconds(20 * 3600), 100_000, 20_000), // 0.45
                ai("globex", "", "g-1", "openai", "gpt-4o", now.minusSeconds(7200), 3_000_000, 500_000), // 12.5
                ai(HOSTILE, "", "h-1", "openai", "gpt-4o", now.minusSeconds(7200), 100_000, 0)) + "]"; // 0.25
        assertThat(server.post("/api/v1/events", ADMIN, events).json().get("accepted").asInt()).isEqualTo(7);
        Awaitility.await().atMost(Duration.ofSeconds(90)).untilAsserted(() -> {
            assertThat(server.get("/api/v1/usage/acme/report?from=" + today.minus(2, ChronoUnit.DAYS) + "&to="
                    + today.plus(1, ChronoUnit.DAYS) + "&granularity=day", ADMIN).text("/totals/events")).isEqualTo("5");
            assertThat(server.get("/api/v1/usage/acme/events?limit=10", ADMIN).json().get("items")).hasSize(5);
            assertThat(server.get("/api/v1/usage/" + ApiServer.enc(HOSTILE) + "/limits", ADMIN).text("/usageAsOf")).isNotNull();
        });
        server.db.execute("INSERT INTO metering.dead_letters (reason, message, stage, topic, kafka_partition, kafka_offset, "
                + "record_timestamp, record_key, payload, received_at) VALUES ('INVALID', ?, 'validate', 'metering.usage.events', "
                + "0, 7, CAST(? AS timestamptz), ?, ?, CAST(? AS timestamptz))", "orgId " + HOSTILE + " is not valid",
                now.atOffset(ZoneOffset.UTC), "acme".getBytes(), new byte[] {1, 2, 3}, now.atOffset(ZoneOffset.UTC));

        // three checks of today: two allowed, one over messages-per-day (170 + 100 > 200)
        for (String q : List.of("quantity=10", "quantity=100", "quantity=1")) {
            assertThat(server.check("acme", "CHAT_MESSAGE", q).status()).isEqualTo(200);
        }

        ChromeOptions options = new ChromeOptions().setBinary("/usr/bin/chromium").addArguments("--headless=new",
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-dev-shm-usage", "--window-size=1280,1800", "--lang=en-US");
        LoggingPreferences logs = new LoggingPreferences();
        logs.enable(LogType.PERFORMANCE, Level.ALL);
        logs.enable(LogType.BROWSER, Level.ALL);
        options.setCapability("goog:loggingPrefs", logs);
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File("/usr/bin/chromedriver")).usingAnyFreePort().build();
        browser = new ChromeDriver(service, options);
        // a zone away from UTC (and half an hour off), so local times cannot pass for UTC ones
        browser.executeCdpCommand("Emulation.setTimezoneOverride", Map.of("timezoneId", BROWSER_ZONE.getId()));
        wait = new WebDriverWait(browser, Duration.ofSeconds(20));
    }

    @AfterAll
    static void stop() {
        if (browser != null) {
            browser.quit();
        }
        if (sink != null) {
            sink.close();
        }
        if (streams != null) {
            streams.close();
        }
        server.close();
    }

    @BeforeEach
    void signOut() {
        browser.get(base + "/ui");
        ((JavascriptExecutor) browser).executeScript("sessionStorage.clear()");
    }

    @Test
    void shouldShowEveryLimitWithTheNumbersOfTheLimitsEndpoint() throws IOException {
        signIn("/", acmeKey);

        wait.until(ExpectedConditions.urlToBe(base + "/ui/org/acme"));
        JsonNode limits = server.get("/api/v1/usage/acme/limits", acmeKey).json();
        assertThat(limits.get("limits")).hasSize(3);
        for (JsonNode l : limits.get("limits")) {
            WebElement bar = wait.until(ExpectedConditions.presenceOfElementLocated(
                    By.cssSelector("li.limit[data-limit-id='" + l.get("id").asText() + "']")));
            boolean money = l.get("meter").asText().equals("cost_usd");
            assertThat(number(bar, ".used", money)).as(l.get("id") + " used").isEqualTo(l.get("used").asText());
            assertThat(number(bar, ".max", money)).as(l.get("id") + " limit").isEqualTo(l.get("limit").asText());
            assertThat(number(bar, ".remaining", money)).as(l.get("id") + " remaining").isEqualTo(l.get("remaining").asText());
            assertThat(bar.findElement(By.cssSelector(".badge")).getText()).isEqualTo(l.get("enforcement").asText());
            assertThat(bar.findElement(By.cssSelector("time")).getAttribute("datetime")).isEqualTo(l.get("resetsAt").asText());
        }
        // the numbers themselves, so a wrong endpoint cannot make both sides agree on nothing
        assertThat(number(browser.findElement(By.cssSelector("[data-limit-id='messages-per-day']")), ".used", false)).isEqualTo("170");
        assertThat(number(browser.findElement(By.cssSelector("[data-limit-id='spend-per-period']")), ".used", true))
                .isEqualTo("4.05");
        assertThat(browser.findElement(By.id("plan")).getText()).isEqualTo("free");
        assertThat(browser.findElement(By.id("balance-usd")).getText()).isEqualTo(
                "$" + server.get("/api/v1/orgs/acme/balance", acmeKey).text("/balanceUsd"));
        assertThat(browser.findElement(By.id("granted-usd")).getText()).isEqualTo("$15.5");
        assertThat(browser.findElements(By.cssSelector(".problem")).stream().filter(WebElement::isDisplayed)).isEmpty();

        // times in the browser's zone, the UTC instant on hover
        WebElement reset = browser.findElement(By.cssSelector("[data-limit-id='messages-per-day'] time"));
        Instant resetsAt = Instant.parse(reset.getAttribute("datetime"));
        assertThat(reset.getAttribute("title")).isEqualTo(resetsAt + " (UTC)");
        assertThat(reset.getText().replace('\u202f', ' ')).isEqualTo(
                DateTimeFormatter.ofPattern("M/d/yyyy, h:mm:ss a", Locale.US).format(resetsAt.atZone(BROWSER_ZONE)));

        // a refresh changes values in place: the same nodes before and after two refreshes
        JavascriptExecutor js = (JavascriptExecutor) browser;
        js.executeScript("document.querySelector('li.limit').__kept = 1; document.querySelector('#usage-chart svg').__kept = 1;"
                + "document.querySelector('#event-list tbody tr').__kept = 1");
        long refreshes = refreshes();
        wait.until(d -> refreshes() >= refreshes + 2);
        assertThat(js.executeScript("return [document.querySelector('li.limit').__kept, "
                + "document.querySelector('#usage-chart svg').__kept, document.querySelector('#event-list tbody tr').__kept]"))
                .isEqualTo(List.of(1L, 1L, 1L));
        screenshot("dashboard-org.png");

        browser.manage().window().setSize(new Dimension(400, 1800));
        try {
            browser.navigate().refresh();
            wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("#usage-chart svg")));
            wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("#event-list tbody tr")));
            // nothing wider than the screen: wide tables scroll inside their own box
            assertThat(js.executeScript("return document.documentElement.scrollWidth <= window.innerWidth")).isEqualTo(true);
            assertThat((Long) js.executeScript("return window.innerWidth")).isLessThanOrEqualTo(400L);
            screenshot("dashboard-org-narrow.png");
        } finally {
            browser.manage().window().setSize(new Dimension(1280, 1800));
        }
    }

    @Test
    void shouldShowChartTotalsEqualToTheReportForHoursAndDays() {
        signIn("/", acmeKey);

        // the hour view: the 24 hours up to the freshest usage's hour, which holds 4 of the 5 events
        assertTotals("hour");
        assertThat(browser.findElement(By.id("total-events")).getText()).isEqualTo("4");
        assertThat(browser.findElement(By.id("total-cost")).getText()).isEqualTo("$4.05");
        new Select(browser.findElement(By.name("granularity"))).selectByValue("day");
        wait.until(ExpectedConditions.textToBe(By.id("total-events"), "5"));
        assertTotals("day");
        assertThat(browser.findElement(By.id("total-cost")).getText()).isEqualTo("$4.05");
        assertThat(browser.findElement(By.id("total-tokens")).getText()).isEqualTo("1,050,000");

        List<String> models = columnText("#cost-by-model tbody tr td:first-child");
        assertThat(models).containsExactly("openai/gpt-4o", "anthropic/claude-sonnet", "(no model)");
        assertThat(columnText("#top-users tbody tr td:first-child")).containsExactly("ann", "bob", "cy");
    }

    @Test
    void shouldListTheGrantsRecentEventsAndAlertsOfTheApi() throws IOException {
        // the detector records: messages-per-day past 80%, spend-per-period past 80% and 100%, the pack expiring in 5 days
        Awaitility.await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(
                server.get("/api/v1/usage/acme/alerts", acmeKey).json().get("items")).hasSize(4));
        JsonNode alerts = server.get("/api/v1/usage/acme/alerts", acmeKey).json();
        List<String> types = new ArrayList<>();
        alerts.get("items").forEach(a -> types.add(a.get("type").asText()
                + (a.at("/data/limitId").isMissingNode() ? "" : " " + a.at("/data/limitId").asText() + " " + a.at("/data/threshold").asText())));
        assertThat(types).containsExactlyInAnyOrder("limit.threshold_reached messages-per-day 0.8",
                "limit.threshold_reached spend-per-period 0.8", "limit.threshold_reached spend-per-period 1", "credits.expiring");
        JsonNode grants = server.get("/api/v1/orgs/acme/credits", acmeKey).json();
        JsonNode events = server.get("/api/v1/usage/acme/events?limit=20", acmeKey).json();
        // the pages of limit=1 (grants) and limit=3 (alerts), followed by next, are the whole lists
        assertThat(pages("/api/v1/orgs/acme/credits?limit=1")).isEqualTo(grants.get("items"));
        assertThat(pages("/api/v1/usage/acme/alerts?limit=3")).isEqualTo(alerts.get("items"));
        assertThat(server.get("/api/v1/usage/acme/alerts?after=nonsense", acmeKey).text("/error/field")).isEqualTo("after");
        assertThat(server.get("/api/v1/orgs/globex/credits", acmeKey).status()).isEqualTo(403);
        assertThat(server.get("/api/v1/usage/globex/alerts", acmeKey).status()).isEqualTo(403);

        signIn("/", acmeKey);
        wait.until(ExpectedConditions.numberOfElementsToBe(By.cssSelector("#alert-list tbody tr"), 4));
        wait.until(ExpectedConditions.numberOfElementsToBe(By.cssSelector("#event-list tbody tr"), 5));

        // grants: newest first, as the API lists them
        List<WebElement> shown = browser.findElements(By.cssSelector("#grant-list li.grant"));
        assertThat(shown).hasSize(2);
        for (int i = 0; i < 2; i++) {
            JsonNode g = grants.at("/items/" + i);
            WebElement li = shown.get(i);
            assertThat(li.getAttribute("data-grant-id")).isEqualTo(g.get("id").asText());
            assertThat(li.findElement(By.cssSelector(".amount")).getText()).isEqualTo("$" + g.get("amountUsd").asText());
            assertThat(li.findElement(By.cssSelector(".status")).getText()).isEqualTo("active");
            assertThat(li.findElement(By.cssSelector("time")).getAttribute("datetime")).isEqualTo(g.get("grantedAt").asText());
            assertThat(li.findElement(By.cssSelector(".reason")).getText()).isEqualTo(g.get("reason").asText());
        }
        assertThat(shown.get(0).getText()).contains("never expires");
        assertThat(shown.get(1).findElements(By.cssSelector("time")).get(1).getAttribute("datetime"))
                .isEqualTo(grants.at("/items/1/expiresAt").asText());

        // recent events: newest first with their cost
        List<WebElement> rows = browser.findElements(By.cssSelector("#event-list tbody tr"));
        for (int i = 0; i < rows.size(); i++) {
            JsonNode e = events.at("/items/" + i);
            List<WebElement> cells = rows.get(i).findElements(By.tagName("td"));
            assertThat(cells.get(0).findElement(By.tagName("time")).getAttribute("datetime")).isEqualTo(e.get("occurredAt").asText());
            assertThat(cells.get(1).getText()).isEqualTo(e.get("eventId").asText());
            assertThat(cells.get(6).getText()).isEqualTo("$" + e.get("costUsd").asText());
        }
        assertThat(columnText("#event-list tbody tr td:nth-child(2)")).containsExactly("m-1", "a-1", "a-2", "a-3", "m-2");
        assertThat(columnText("#event-list tbody tr td:nth-child(7)")).containsExactly("$0", "$2.4", "$1.2", "$0.45", "$0");

        // alerts: newest first, as recorded
        List<WebElement> alertRows = browser.findElements(By.cssSelector("#alert-list tbody tr"));
        for (int i = 0; i < alertRows.size(); i++) {
            JsonNode a = alerts.at("/items/" + i);
            assertThat(alertRows.get(i).findElement(By.cssSelector("td time")).getAttribute("datetime"))
                    .isEqualTo(a.get("createdAt").asText());
            assertThat(alertRows.get(i).findElement(By.cssSelector("td:nth-child(2)")).getText()).isEqualTo(a.get("type").asText());
        }
        assertThat(browser.findElement(By.id("alert-list")).getText()).contains("messages-per-day reached 80%: 170 of 200");
    }

    @Test
    void shouldSayPlainlyWhenTheEventLogIsOff() {
        try (ApiServer off = ApiServer.start(server.jdbcUrl, EnforcementMode.ENFORCE, 0, StalePolicy.FAIL_OPEN)) {
            off.clock.set(now);
            assertThat(off.get("/api/v1/usage/acme/events", acmeKey).text("/error/code")).isEqualTo("EVENT_LOG_OFF");
            browser.get("http://127.0.0.1:" + off.api.port() + "/ui/org/acme");
            signIn(null, acmeKey);
            assertThat(wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("events-off"))).getText())
                    .startsWith("The event log is off on this server");
            assertThat(browser.findElements(By.cssSelector(".problem")).stream().filter(WebElement::isDisplayed)).isEmpty();
        }
    }

    @Test
    void shouldRefuseAnotherOrgWithAnOrgKey() {
        signIn("/", acmeKey);
        wait.until(ExpectedConditions.urlToBe(base + "/ui/org/acme"));

        browser.get(base + "/ui/org/globex");

        WebElement refusal = wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("refusal")));
        assertThat(refusal.getText()).isEqualTo("This key may not open this org: this key belongs to another org.");
        assertThat(browser.findElements(By.cssSelector("li.limit"))).isEmpty();
        browser.get(base + "/ui/admin");
        assertThat(wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("refusal"))).getText())
                .isEqualTo("This page needs an admin key; this key belongs to one org.");
    }

    @Test
    void shouldTellAWrongOrRevokedKeyApart() {
        signIn("/", "not-a-key-0123456789");
        assertThat(wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("signin-error"))).getText())
                .isEqualTo("This API key is invalid or has been revoked.");
        assertThat(sessionKey()).isNull();

        String[] revoked = server.createKey("acme", "read");
        assertThat(server.delete("/api/v1/api-keys/" + revoked[0], ADMIN).status()).isEqualTo(204);
        browser.get(base + "/");
        signIn(null, revoked[1]);
        assertThat(wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("signin-error"))).getText())
                .isEqualTo("This API key is invalid or has been revoked.");
        assertThat(browser.getCurrentUrl()).doesNotContain(revoked[1]);
    }

    @Test
    void shouldListTopOrgsInTheReportOrderAndRenderUserDataAsText() {
        signIn("/", ADMIN);
        wait.until(ExpectedConditions.urlToBe(base + "/ui/admin"));
        wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("#top-orgs tbody tr")));
        wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("[data-reason='INVALID']")));

        Instant tomorrow = now.truncatedTo(ChronoUnit.DAYS).plus(1, ChronoUnit.DAYS);
        List<String> expected = new ArrayList<>();
        server.get("/api/v1/reports/top-orgs?from=" + day(tomorrow.minus(30, ChronoUnit.DAYS)) + "&to=" + day(tomorrow)
                + "&by=cost&limit=20", ADMIN).json().get("orgs").forEach(o -> expected.add(o.get("orgId").asText()));
        assertThat(expected).containsExactly("globex", "acme", HOSTILE);
        assertThat(columnText("#top-orgs tbody tr td:nth-child(2)")).isEqualTo(expected);
        assertThat(browser.findElement(By.cssSelector("[data-reason='INVALID'] .message")).getText())
                .isEqualTo("orgId " + HOSTILE + " is not valid");
        assertThat(browser.findElement(By.id("ready-status")).getText()).isEqualTo("ready");
        assertNoMarkupFromData();

        // the hostile org's own page, opened from its link: the id is a heading's text
        browser.findElement(By.linkText(HOSTILE)).click();
        assertThat(wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("org-id"))).getText()).isEqualTo(HOSTILE);
        wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("#event-list tbody tr")));
        assertNoMarkupFromData();
    }

    @Test
    void shouldSwitchTheStoredEnforcementModeAfterAConfirmation() {
        String mode = server.get("/api/v1/enforcement", ADMIN).json().get("mode").asText();
        assertThat(mode).isEqualTo("enforce");
        signIn("/", ADMIN);
        assertThat(wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("mode-now"))).getText()).isEqualTo("enforce");
        assertThat(browser.findElement(By.id("mode")).getAttribute("value")).isEqualTo("enforce");
        try {
            // Apply only asks; Cancel (here by keyboard) changes nothing
            new Select(browser.findElement(By.id("mode"))).selectByValue("shadow");
            browser.findElement(By.id("mode-apply")).click();
            WebElement question = wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("mode-question")));
            assertThat(question.getText()).startsWith("Switch enforcement for every org without its own mode from enforce "
                    + "(canary 0%) to shadow (canary 0%)?");
            assertThat(browser.switchTo().activeElement().getAttribute("id")).isEqualTo("mode-confirm");
            browser.switchTo().activeElement().sendKeys(Keys.ESCAPE);
            wait.until(ExpectedConditions.invisibilityOfElementLocated(By.id("mode-confirmation")));
            assertThat(server.get("/api/v1/enforcement", ADMIN).text("/mode")).isEqualTo("enforce");
            assertThat(browser.findElement(By.id("mode")).getAttribute("value")).isEqualTo("enforce");

            // Apply, then Confirm: the stored mode changes and the page shows it
            new Select(browser.findElement(By.id("mode"))).selectByValue("shadow");
            browser.findElement(By.id("mode-apply")).click();
            wait.until(ExpectedConditions.elementToBeClickable(By.id("mode-confirm"))).click();
            wait.until(ExpectedConditions.textToBe(By.id("mode-now"), "shadow"));
            assertThat(server.get("/api/v1/enforcement", ADMIN).text("/mode")).isEqualTo("shadow");
            assertThat(browser.findElement(By.id("mode-status")).getText()).isEqualTo("Switched to shadow.");
        } finally {
            assertThat(server.putJson("/api/v1/enforcement", ADMIN, "{\"mode\":\"enforce\"}").status()).isEqualTo(200);
        }
    }

    @Test
    void shouldShowTheBlockRatePerDayOfTheChecks() throws IOException {
        String today = day(now);
        String path = "/api/v1/reports/check-outcomes?from=" + today + "&to=" + day(now.plus(1, ChronoUnit.DAYS));
        // the server adds its counted decisions to the table every 5 s
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> server.get(path, ADMIN).json().at("/days/0/checks").asLong() == 3);
        JsonNode d = server.get(path, ADMIN).json().at("/days/0");
        assertThat(d.toString()).isEqualTo(
                "{\"day\":\"" + today + "\",\"checks\":3,\"allowed\":2,\"blocked\":1,\"wouldBlock\":0,\"blockRate\":\"0.3333\"}");
        assertThat(server.get(path, acmeKey).status()).isEqualTo(403);

        signIn("/", ADMIN);
        wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("#block-rate tbody tr")));
        assertThat(columnText("#block-rate tbody tr:first-child td")).containsExactly(today, "3", "1", "0", "33.33%");
        wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("[data-reason='INVALID']")));
        screenshot("dashboard-admin.png");

        // numbers right-aligned on one line each and ids unbroken, down to a tablet's width; on a
        // phone the page never scrolls sideways (wide tables become cards or scroll inside their box)
        JavascriptExecutor js = (JavascriptExecutor) browser;
        String numberCells = "return [...document.querySelectorAll('main td.num, main th.num')]";
        assertThat((Long) js.executeScript(numberCells + ".length")).isGreaterThanOrEqualTo(8L);
        Dimension desktop = browser.manage().window().getSize();
        try {
            for (int width : new int[] {1280, 1024, 760}) {
                browser.manage().window().setSize(new Dimension(width, 1800));
                assertThat(js.executeScript("return [...document.querySelectorAll('main td.num, main th.num, main td.nowrap')]"
                        + ".filter((c) => { const r = document.createRange(); "
                        + "r.selectNodeContents(c); return new Set([...r.getClientRects()].map((b) => Math.round(b.top))).size > 1; })"
                        + ".map((c) => c.textContent)")).as("number or id cells on more than one line at %d px", width)
                        .isEqualTo(List.of());
                assertThat(js.executeScript(numberCells + ".filter((c) => getComputedStyle(c).textAlign !== 'right')"
                        + ".map((c) => c.textContent)")).as("number cells not right-aligned at %d px", width).isEqualTo(List.of());
            }
            browser.manage().window().setSize(new Dimension(400, 1800));
            wait.until(b -> (Long) js.executeScript("return window.innerWidth") <= 400L);
            assertThat(js.executeScript("return document.documentElement.scrollWidth <= window.innerWidth")).isEqualTo(true);
            screenshot("dashboard-admin-narrow.png");
        } finally {
            browser.manage().window().setSize(desktop);
        }
    }

    @Test
    void shouldLoadEverythingFromTheServerUnderAStrictPolicy() {
        Response page = server.get("/ui/org/acme", null);
        assertThat(page.status()).isEqualTo(200);
        assertThat(page.raw().headers().firstValue("Content-Security-Policy")).hasValueSatisfying(csp ->
                assertThat(csp).contains("script-src 'self'", "default-src 'none'", "connect-src 'self'").doesNotContain("unsafe"));
        assertThat(page.raw().headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");
        assertThat(server.get("/docs", null).raw().headers().firstValue("Content-Security-Policy"))
                .isEqualTo(page.raw().headers().firstValue("Content-Security-Policy"));
        assertThat(server.get("/ui/assets/app.js", null).raw().headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");
        assertThat(server.get("/docs/assets/index.html", null).status()).isEqualTo(404);

        browser.manage().logs().get(LogType.PERFORMANCE); // drop what earlier tests loaded
        signIn("/", ADMIN);
        wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("#top-orgs tbody tr")));
        browser.get(base + "/ui/org/acme");
        wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("li.limit")));
        browser.get(base + "/docs");
        WebElement title = wait.until(ExpectedConditions.visibilityOfElementLocated(By.cssSelector(".swagger-ui .info .title")));
        assertThat(title.getText()).startsWith("Metering billing API");

        List<String> urls = requestedUrls();
        assertThat(urls).contains(base + "/ui/assets/app.js", base + "/docs/assets/swagger-ui-bundle.js", base + "/openapi.json");
        assertThat(urls).allSatisfy(u -> assertThat(u).matches("(" + java.util.regex.Pattern.quote(base) + "/|data:).*"));
        List<String> violations = browser.manage().logs().get(LogType.BROWSER).getAll().stream()
                .map(LogEntry::getMessage).filter(m -> m.contains("Content Security Policy") || m.contains("Refused")).toList();
        assertThat(violations).isEmpty();
    }

    // ---- helpers

    private static void signIn(String path, String key) {
        if (path != null) {
            browser.get(base + path);
        }
        WebElement input = wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("api-key")));
        input.sendKeys(key);
        browser.findElement(By.cssSelector("#signin button[type=submit]")).click();
    }

    private static String number(WebElement bar, String css, boolean money) {
        String text = bar.findElement(By.cssSelector(css)).getText();
        return money ? text.replaceFirst("^\\$", "") : text.replace(",", "");
    }

    /** The chart's totals equal the report's over the range the page drew (the page names it on the totals line). */
    private void assertTotals(String granularity) {
        wait.until(ExpectedConditions.presenceOfElementLocated(By.id("total-events")));
        WebElement line = browser.findElement(By.id("usage-total"));
        String from = line.getAttribute("data-from"), to = line.getAttribute("data-to");
        long hours = Duration.between(Instant.parse(from), Instant.parse(to)).toHours();
        assertThat(hours).isEqualTo(granularity.equals("hour") ? 24 : 30 * 24);
        JsonNode totals = server.get("/api/v1/usage/acme/report?from=" + from + "&to=" + to + "&granularity=" + granularity
                + "&groupBy=feature", acmeKey).json().get("totals");
        String events = String.format(Locale.US, "%,d", totals.get("events").asLong());
        wait.until(ExpectedConditions.textToBe(By.id("total-events"), events));
        assertThat(browser.findElement(By.id("total-tokens")).getText())
                .isEqualTo(String.format(Locale.US, "%,d", totals.get("tokens").asLong()));
        assertThat(browser.findElement(By.id("total-cost")).getText()).isEqualTo("$" + totals.get("costUsd").asText());
    }

    /** Every item of a cursor-paginated listing, following next from {@code first}. */
    private static JsonNode pages(String first) {
        com.fasterxml.jackson.databind.node.ArrayNode all = JSON.createArrayNode();
        String path = first;
        for (int page = 0; page < 10 && path != null; page++) {
            JsonNode body = server.get(path, acmeKey).json();
            all.addAll((com.fasterxml.jackson.databind.node.ArrayNode) body.get("items"));
            path = body.get("next").isNull() ? null
                    : first.replaceFirst("\\?.*", "") + "?limit=" + first.replaceFirst(".*limit=", "") + "&after=" + body.get("next").asText();
        }
        return all;
    }

    private static long refreshes() {
        Object n = ((JavascriptExecutor) browser).executeScript("return Number(document.body.dataset.refreshes || 0)");
        return ((Number) n).longValue();
    }

    private static String day(Instant t) {
        return t.atOffset(ZoneOffset.UTC).toLocalDate().toString();
    }

    private static String chat(String org, String user, String id, Instant at, long quantity) {
        return "{\"eventId\":\"" + id + "\",\"orgId\":" + ApiServer.quote(org) + (user.isEmpty() ? "" : ",\"userId\":\"" + user + "\"")
                + ",\"feature\":\"CHAT_MESSAGE\",\"quantity\":" + quantity + ",\"occurredAt\":\"" + at + "\"}";
    }

    private static String ai(String org, String user, String id, String provider, String model, Instant at, long in, long out) {
        return "{\"eventId\":\"" + id + "\",\"orgId\":" + ApiServer.quote(org) + (user.isEmpty() ? "" : ",\"userId\":\"" + user + "\"")
                + ",\"feature\":\"AI_COMPLETION\",\"provider\":\"" + provider + "\",\"model\":\"" + model
                + "\",\"inputTokens\":" + in + ",\"outputTokens\":" + out + ",\"occurredAt\":\"" + at + "\"}";
    }

    /** Waits until the streams app's global price store holds {@code key}. */
    private static void awaitPrice(String key) {
        Awaitility.await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            ReadOnlyKeyValueStore<String, byte[]> store = streams.streams().store(StoreQueryParameters.fromNameAndType(
                    PriceBook.STORE, QueryableStoreTypes.keyValueStore()));
            assertThat(store.get(key)).isNotNull();
        });
    }

    private static List<String> columnText(String css) {
        return browser.findElements(By.cssSelector(css)).stream().map(WebElement::getText).toList();
    }

    private static String sessionKey() {
        return (String) ((JavascriptExecutor) browser).executeScript("return sessionStorage.getItem('metering.apiKey')");
    }

    /** No element was made from data: no img anywhere, and the onerror handler never ran. */
    private static void assertNoMarkupFromData() {
        JavascriptExecutor js = (JavascriptExecutor) browser;
        assertThat(js.executeScript("return document.querySelectorAll('img').length")).isEqualTo(0L);
        assertThat(js.executeScript("return window.__xss === undefined")).isEqualTo(true);
    }

    /** Every URL the browser requested since the last call (Network.requestWillBeSent in chromedriver's performance log). */
    private static List<String> requestedUrls() {
        List<String> urls = new ArrayList<>();
        for (LogEntry e : browser.manage().logs().get(LogType.PERFORMANCE)) {
            try {
                JsonNode m = JSON.readTree(e.getMessage()).get("message");
                if (m.get("method").asText().equals("Network.requestWillBeSent")) {
                    urls.add(m.at("/params/request/url").asText());
                }
            } catch (IOException ex) {
                throw new AssertionError("unreadable performance log entry " + e.getMessage(), ex);
            }
        }
        return urls;
    }

    /** The whole page (the window made as tall as the page for the shot), under target/. */
    private static void screenshot(String name) throws IOException {
        Files.createDirectories(TARGET);
        Dimension size = browser.manage().window().getSize();
        long height = (Long) ((JavascriptExecutor) browser).executeScript("return document.documentElement.scrollHeight");
        browser.manage().window().setSize(new Dimension(size.getWidth(), (int) Math.max(size.getHeight(), height + 140)));
        try {
            Files.write(TARGET.resolve(name), ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES));
        } finally {
            browser.manage().window().setSize(size);
        }
    }
}
