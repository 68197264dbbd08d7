package dev.metering.api.it;

import static dev.metering.api.it.ApiServer.ADMIN;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.api.it.ApiServer.Response;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Level;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.awaitility.Awaitility;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
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
 * real API on a random port over real PostgreSQL rows: what the pages show is what the JSON
 * endpoints answer, keys see only what they may, user data renders as text, and nothing is
 * loaded from anywhere but the server.
 */
class DashboardIT {

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
    private static final String HOSTILE = "<img src=x onerror=\"window.__xss=1\">";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path TARGET = Path.of("target");

    private static ApiServer server;
    private static String base;
    private static String acmeKey;
    private static ChromeDriver browser;
    private static WebDriverWait wait;

    @BeforeAll
    static void start() {
        server = ApiServer.start("billing_dashboard");
        base = "http://127.0.0.1:" + server.api.port();
        server.applyCatalog(CATALOG);
        server.subscribe("acme", "{\"planId\":\"free\",\"periodStart\":\"2026-11-10T00:00:00Z\",\"periodEnd\":\"2026-12-10T00:00:00Z\"}");
        acmeKey = server.createKey("acme", "read")[1];
        Instant t0 = ApiServer.T0;
        server.sink
                .usage("acme", "ann", "CHAT_MESSAGE", t0.minusSeconds(600), 150, 150, 0, 0, "0")
                .usage("acme", "ann", "AI_COMPLETION", "openai", "gpt-4o", t0.minusSeconds(300), 12, 12, 600_000, 90_000, "1.234500001")
                .usage("acme", "bob", "AI_COMPLETION", "anthropic", "claude-sonnet", t0.minusSeconds(3 * 3600), 5, 5, 200_000, 40_000, "0.8")
                .usage("acme", "bob", "CHAT_MESSAGE", t0.minusSeconds(3 * 86_400), 70, 70, 0, 0, "0")
                .usage("acme", "cy", "AI_COMPLETION", "openai", "gpt-4o-mini", t0.minusSeconds(9 * 86_400), 30, 30, 300_000, 60_000, "0.09")
                .usage("globex", "", "AI_COMPLETION", t0.minusSeconds(7200), 400, 400, 3_000_000, 500_000, "9.75")
                .usage(HOSTILE, "", "CHAT_MESSAGE", t0.minusSeconds(7200), 9, 9, 0, 0, "0.5");
        server.db.execute("INSERT INTO metering.dead_letters (reason, message, stage, topic, kafka_partition, kafka_offset, "
                + "record_timestamp, record_key, payload, received_at) VALUES ('INVALID', ?, 'validate', 'metering.usage.events', "
                + "0, 7, CAST(? AS timestamptz), ?, ?, CAST(? AS timestamptz))", "orgId " + HOSTILE + " is not valid",
                t0.atOffset(ZoneOffset.UTC), "acme".getBytes(), new byte[] {1, 2, 3}, t0.atOffset(ZoneOffset.UTC));

        // three checks of today (T0): two allowed, one over messages-per-day (150 + 100 > 200)
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
        wait = new WebDriverWait(browser, Duration.ofSeconds(20));
    }

    @AfterAll
    static void stop() {
        if (browser != null) {
            browser.quit();
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
        assertThat(number(browser.findElement(By.cssSelector("[data-limit-id='messages-per-day']")), ".used", false)).isEqualTo("150");
        assertThat(number(browser.findElement(By.cssSelector("[data-limit-id='spend-per-period']")), ".used", true))
                .isEqualTo("2.124500001");
        assertThat(browser.findElement(By.id("plan")).getText()).isEqualTo("free");
        assertThat(browser.findElement(By.id("balance-usd")).getText()).isEqualTo(
                "$" + server.get("/api/v1/orgs/acme/balance", acmeKey).text("/balanceUsd"));
        assertThat(browser.findElement(By.cssSelector("#freshness time")).getAttribute("datetime"))
                .isEqualTo("2026-11-22T18:30:00Z");
        // GET .../events is not on this server (404): its section stays hidden, without an error
        assertThat(browser.findElement(By.id("events")).isDisplayed()).isFalse();
        assertThat(browser.findElements(By.cssSelector(".problem")).stream().filter(WebElement::isDisplayed)).isEmpty();
        screenshot("dashboard-org.png");
        browser.manage().window().setSize(new Dimension(420, 1800));
        try {
            browser.navigate().refresh();
            wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("#usage-chart svg")));
            screenshot("dashboard-org-narrow.png");
        } finally {
            browser.manage().window().setSize(new Dimension(1280, 1800));
        }
    }

    @Test
    void shouldShowChartTotalsEqualToTheReportForHoursAndDays() {
        signIn("/", acmeKey);

        // the hour view covers the 24 hours up to the freshest usage (18:30 → 18:59)
        assertTotals("2026-11-21T19:00:00Z", "2026-11-22T19:00:00Z", "hour");
        new Select(browser.findElement(By.name("granularity"))).selectByValue("day");
        assertTotals("2026-10-24T00:00:00Z", "2026-11-23T00:00:00Z", "day");
        assertThat(browser.findElement(By.id("total-events")).getText()).isEqualTo("267");
        assertThat(browser.findElement(By.id("total-cost")).getText()).isEqualTo("$2.124500001");

        List<String> models = columnText("#cost-by-model tbody tr td:first-child");
        assertThat(models).containsExactly("openai/gpt-4o", "anthropic/claude-sonnet", "openai/gpt-4o-mini", "(no model)");
        assertThat(columnText("#top-users tbody tr td:first-child")).containsExactly("ann", "bob", "cy");
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

        List<String> expected = new ArrayList<>();
        server.get("/api/v1/reports/top-orgs?from=2026-10-24&to=2026-11-23&by=cost&limit=20", ADMIN).json()
                .get("orgs").forEach(o -> expected.add(o.get("orgId").asText()));
        assertThat(expected).containsExactly("globex", "acme", HOSTILE);
        assertThat(columnText("#top-orgs tbody tr td:nth-child(2)")).isEqualTo(expected);
        assertThat(browser.findElement(By.cssSelector("[data-reason='INVALID'] .message")).getText())
                .isEqualTo("orgId " + HOSTILE + " is not valid");
        assertThat(browser.findElement(By.id("ready-status")).getText()).isEqualTo("ready");
        // the enforcement switch shows the mode GET /api/v1/enforcement answers
        String mode = server.get("/api/v1/enforcement", ADMIN).json().get("mode").asText();
        assertThat(wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("mode-now"))).getText()).isEqualTo(mode);
        assertThat(browser.findElement(By.cssSelector("#enforcement-form select#mode")).getAttribute("value")).isEqualTo(mode);
        assertNoMarkupFromData();

        // the hostile org's own page, opened from its link: the id is a heading's text
        browser.findElement(By.linkText(HOSTILE)).click();
        assertThat(wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("org-id"))).getText()).isEqualTo(HOSTILE);
        wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("li.limit")));
        assertNoMarkupFromData();
    }

    @Test
    void shouldShowTheBlockRatePerDayOfTheChecks() throws IOException {
        String path = "/api/v1/reports/check-outcomes?from=2026-11-22&to=2026-11-23";
        // the server adds its counted decisions to the table every 5 s
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> server.get(path, ADMIN).json().at("/days/0/checks").asLong() == 3);
        JsonNode day = server.get(path, ADMIN).json().at("/days/0");
        assertThat(day.toString()).isEqualTo(
                "{\"day\":\"2026-11-22\",\"checks\":3,\"allowed\":2,\"blocked\":1,\"wouldBlock\":0,\"blockRate\":\"0.3333\"}");
        assertThat(server.get(path, acmeKey).status()).isEqualTo(403);

        signIn("/", ADMIN);
        wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("#block-rate tbody tr")));
        assertThat(columnText("#block-rate tbody tr:first-child td")).containsExactly("2026-11-22", "3", "1", "0", "33.33%");
        wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("[data-reason='INVALID']")));
        screenshot("dashboard-admin.png");
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

    private void assertTotals(String from, String to, String granularity) {
        JsonNode totals = server.get("/api/v1/usage/acme/report?from=" + from + "&to=" + to + "&granularity=" + granularity
                + "&groupBy=feature", acmeKey).json().get("totals");
        String events = String.format(java.util.Locale.US, "%,d", totals.get("events").asLong());
        wait.until(ExpectedConditions.textToBe(By.id("total-events"), events));
        assertThat(browser.findElement(By.id("total-tokens")).getText())
                .isEqualTo(String.format(java.util.Locale.US, "%,d", totals.get("tokens").asLong()));
        assertThat(browser.findElement(By.id("total-cost")).getText()).isEqualTo("$" + totals.get("costUsd").asText());
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

    private static void screenshot(String name) throws IOException {
        Files.createDirectories(TARGET);
        Files.write(TARGET.resolve(name), ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES));
    }
}
