package dev.metering.events.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.SchemaParseException;
import org.apache.kafka.common.config.ConfigException;

/**
 * A {@link SchemaRegistryClient} over the Confluent Schema Registry REST API (content type
 * {@value #CONTENT_TYPE}), with the JDK {@link HttpClient} and Jackson.
 *
 * <p>Works against Confluent Schema Registry, Confluent Cloud (basic auth), Apicurio
 * ({@code http://host:8080/apis/ccompat/v7}: the base URL may carry a path), Karapace and
 * Redpanda. Requests used:
 * <ul>
 *   <li>{@code POST /subjects/{subject}/versions {"schema": ...}} → {@code {"id": n}}</li>
 *   <li>{@code POST /subjects/{subject} {"schema": ...}} → {@code {"subject","version","id","schema"}}</li>
 *   <li>{@code GET /schemas/ids/{id}} → {@code {"schema": ...}}</li>
 *   <li>{@code GET /subjects/{subject}/versions/{latest|n}}</li>
 *   <li>{@code POST /compatibility/subjects/{subject}/versions/latest} → {@code {"is_compatible": b}}</li>
 *   <li>{@code GET|PUT /config/{subject}}</li>
 * </ul>
 *
 * <p>Guarantees: schema→id and id→schema answers are cached forever (they never change in a
 * registry); the latest version of a subject is cached for {@link Builder#latestCacheTtl}.
 * Each request has a connect timeout and a timeout for the whole exchange, body included. Only
 * I/O errors, timeouts and HTTP 5xx are retried, with exponential backoff ({@code retries.wait.ms}
 * doubling up to {@code retries.max.wait.ms}, at most {@code max.retries} retries), and an I/O
 * error moves on to the next URL of a comma-separated {@code schema.registry.url}. A 4xx answer is
 * never retried: it surfaces at once as a {@link SchemaRegistryException} with the registry's
 * {@code error_code} and {@code message}. Thread-safe.
 *
 * <p>The registry is not trusted blindly: a response body over {@code http.max.response.bytes}
 * (default 1 MiB) is not read, and schema text over {@code max.schema.bytes} (default 256 KiB),
 * of another type than AVRO, or unparsable is refused ({@link SchemaRegistryException#isTransient()}
 * false). Redirects are followed only within the same origin (scheme, host and port; at most
 * {@value #MAX_REDIRECTS}); a redirect to another origin is refused, so credentials never leave
 * the configured registry. An id lookup refused for good (404, 403, an unusable schema) is
 * remembered for {@code missing.id.cache.ttl.sec} (default 30 s): a flood of records naming that
 * id costs one request per id per TTL.
 *
 * <p>This class holds the caches; {@link RegistryRestService} does the HTTP, failover and retries;
 * {@link RegistryClientConfig} reads Confluent's configuration keys.
 */
public final class HttpSchemaRegistryClient implements SchemaRegistryClient {

    /** The Confluent REST content type, sent with every request body. */
    public static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";
    /** What we accept, as Confluent's own client sends it. */
    static final String ACCEPT = "application/vnd.schemaregistry.v1+json, "
            + "application/vnd.schemaregistry+json; q=0.9, application/json; q=0.5";

    /** Comma-separated base URLs (Confluent key). */
    public static final String URL_CONFIG = "schema.registry.url";
    /** {@code USER_INFO} (credentials from {@link #BASIC_AUTH_USER_INFO_CONFIG}) or {@code URL} (from the URL's user info). */
    public static final String BASIC_AUTH_CREDENTIALS_SOURCE_CONFIG = "basic.auth.credentials.source";
    /** {@code user:password}, e.g. a Confluent Cloud API key and secret. */
    public static final String BASIC_AUTH_USER_INFO_CONFIG = "basic.auth.user.info";
    /** {@code STATIC_TOKEN}: send {@link #BEARER_AUTH_TOKEN_CONFIG} as a bearer token. */
    public static final String BEARER_AUTH_CREDENTIALS_SOURCE_CONFIG = "bearer.auth.credentials.source";
    /** The bearer token for {@code bearer.auth.credentials.source=STATIC_TOKEN}. */
    public static final String BEARER_AUTH_TOKEN_CONFIG = "bearer.auth.token";
    /** Connect timeout in ms (default 10000). */
    public static final String CONNECT_TIMEOUT_MS_CONFIG = "http.connect.timeout.ms";
    /** Per-request timeout in ms (default 30000). */
    public static final String READ_TIMEOUT_MS_CONFIG = "http.read.timeout.ms";
    /** Retries after the first attempt (default 3). */
    public static final String MAX_RETRIES_CONFIG = "max.retries";
    /** First backoff in ms (default 100), doubled after each retry. */
    public static final String RETRIES_WAIT_MS_CONFIG = "retries.wait.ms";
    /** Backoff cap in ms (default 5000). */
    public static final String RETRIES_MAX_WAIT_MS_CONFIG = "retries.max.wait.ms";
    /** How long the latest version of a subject is cached, in seconds (default 60; 0 = not cached). */
    public static final String LATEST_CACHE_TTL_SEC_CONFIG = "latest.cache.ttl.sec";
    /** How long an id lookup refused for good is remembered, in seconds (Confluent's key; default 30; 0 = not cached). */
    public static final String MISSING_ID_CACHE_TTL_SEC_CONFIG = "missing.id.cache.ttl.sec";
    /** The largest response body read, in bytes (default 1 MiB). */
    public static final String MAX_RESPONSE_BYTES_CONFIG = "http.max.response.bytes";
    /** The largest schema text accepted, in UTF-8 bytes (default 256 KiB). */
    public static final String MAX_SCHEMA_BYTES_CONFIG = "max.schema.bytes";

    /** Same-origin redirects followed per request. */
    static final int MAX_REDIRECTS = 5;
    /** Entries of the missing-id cache; past this, expired entries are dropped, then all. */
    static final int MISSING_ID_CACHE_MAX = 10_000;

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Waits between retries; replaced in tests to observe the backoff without waiting. */
    interface Sleeper {
        void sleep(Duration duration) throws InterruptedException;
    }

    private final RegistryRestService rest;
    private final Duration latestCacheTtl;
    private final Duration missingIdCacheTtl;
    private final int maxSchemaBytes;
    private final Clock clock;

    private final Map<String, Map<Schema, Integer>> idBySubjectAndSchema = new ConcurrentHashMap<>();
    private final Map<Integer, Schema> schemaById = new ConcurrentHashMap<>();
    private final Map<String, SchemaVersion> versionBySubjectAndNumber = new ConcurrentHashMap<>();
    private final Map<String, CachedLatest> latestBySubject = new ConcurrentHashMap<>();
    private final Map<Integer, MissingId> missingIds = new ConcurrentHashMap<>();

    private record CachedLatest(SchemaVersion version, Instant fetchedAt) {
    }

    private record MissingId(SchemaRegistryException refusal, Instant expiresAt) {
    }


    private HttpSchemaRegistryClient(Builder b) {
        this.rest = new RegistryRestService(b.urls, b.authorization, b.connectTimeout, b.requestTimeout, b.maxRetries,
                b.initialBackoff, b.maxBackoff, b.maxResponseBytes, b.sleeper);
        this.latestCacheTtl = b.latestCacheTtl;
        this.missingIdCacheTtl = b.missingIdCacheTtl;
        this.maxSchemaBytes = b.maxSchemaBytes;
        this.clock = b.clock;
    }

    /**
     * A builder for the given base URLs (at least one), e.g. {@code http://127.0.0.1:8081} or
     * {@code http://127.0.0.1:8080/apis/ccompat/v7}.
     */
    public static Builder builder(String... urls) {
        return new Builder(List.of(urls));
    }

    /**
     * A client from Confluent's configuration keys: {@value #URL_CONFIG} (required, may be a
     * comma-separated list), {@value #BASIC_AUTH_CREDENTIALS_SOURCE_CONFIG} ({@code USER_INFO}
     * or {@code URL}) with {@value #BASIC_AUTH_USER_INFO_CONFIG},
     * {@value #BEARER_AUTH_CREDENTIALS_SOURCE_CONFIG} ({@code STATIC_TOKEN}) with
     * {@value #BEARER_AUTH_TOKEN_CONFIG}, and the timeout and retry keys of this class. Every key
     * other than the URL is also accepted with Confluent's {@code schema.registry.} prefix.
     *
     * @throws ConfigException naming every missing or invalid key
     */
    public static HttpSchemaRegistryClient fromConfig(Map<String, ?> config) {
        return RegistryClientConfig.builder(config).build();
    }

    /** The base URLs, in failover order. */
    public List<URI> urls() {
        return rest.urls();
    }

    @Override
    public int register(String subject, Schema schema) {
        Map<Schema, Integer> known = idBySubjectAndSchema.computeIfAbsent(subject, s -> new ConcurrentHashMap<>());
        Integer cached = known.get(schema);
        if (cached != null) {
            return cached;
        }
        int id;
        try {
            JsonNode response = rest.send("POST", "/subjects/" + encode(subject) + "/versions", schemaBody(schema));
            id = requiredInt(response, "id", "POST /subjects/" + subject + "/versions");
        } catch (SchemaRegistryException e) {
            id = registeredMeanwhile(subject, schema, e);
        }
        known.put(schema, id);
        schemaById.putIfAbsent(id, schema);
        latestBySubject.remove(subject);
        return id;
    }

    /**
     * A 409 is an incompatible schema (Confluent), or Apicurio refusing the first version of a
     * subject another instance registered a moment before: the same schema then has an id to look up.
     */
    private int registeredMeanwhile(String subject, Schema schema, SchemaRegistryException refusal) {
        if (refusal.status() != 409) {
            throw refusal;
        }
        try {
            return getId(subject, schema);
        } catch (SchemaRegistryException notThere) {
            refusal.addSuppressed(notThere);
            throw refusal;
        }
    }

    @Override
    public int getId(String subject, Schema schema) {
        Map<Schema, Integer> known = idBySubjectAndSchema.computeIfAbsent(subject, s -> new ConcurrentHashMap<>());
        Integer cached = known.get(schema);
        if (cached != null) {
            return cached;
        }
        JsonNode response = rest.send("POST", "/subjects/" + encode(subject), schemaBody(schema));
        int id = requiredInt(response, "id", "POST /subjects/" + subject);
        known.put(schema, id);
        schemaById.putIfAbsent(id, schema);
        return id;
    }

    @Override
    public Schema getSchemaById(int id) {
        Schema cached = schemaById.get(id);
        if (cached != null) {
            return cached;
        }
        Instant now = clock.instant();
        MissingId missing = missingIds.get(id);
        if (missing != null && now.isBefore(missing.expiresAt())) {
            throw missing.refusal();
        }
        String request = "/schemas/ids/" + id;
        Schema schema;
        try {
            schema = parseSchema(rest.send("GET", request, null), "GET " + request);
        } catch (SchemaRegistryException e) {
            if (!e.isTransient()) {
                rememberMissing(id, e, now);
            }
            throw e;
        }
        missingIds.remove(id);
        schemaById.putIfAbsent(id, schema);
        return schema;
    }

    private void rememberMissing(int id, SchemaRegistryException refusal, Instant now) {
        if (missingIdCacheTtl.isZero()) {
            return;
        }
        if (missingIds.size() >= MISSING_ID_CACHE_MAX) {
            missingIds.values().removeIf(m -> !now.isBefore(m.expiresAt()));
            if (missingIds.size() >= MISSING_ID_CACHE_MAX) {
                missingIds.clear(); // a flood of distinct ids: bounded memory matters more than the cache
            }
        }
        missingIds.put(id, new MissingId(refusal, now.plus(missingIdCacheTtl)));
    }

    @Override
    public SchemaVersion getLatestVersion(String subject) {
        CachedLatest cached = latestBySubject.get(subject);
        Instant now = clock.instant();
        if (cached != null && now.isBefore(cached.fetchedAt().plus(latestCacheTtl))) {
            return cached.version();
        }
        SchemaVersion latest = fetchVersion(subject, "latest");
        if (!latestCacheTtl.isZero()) {
            latestBySubject.put(subject, new CachedLatest(latest, now));
        }
        return latest;
    }

    @Override
    public SchemaVersion getVersion(String subject, int version) {
        String key = subject + '\n' + version;
        SchemaVersion cached = versionBySubjectAndNumber.get(key);
        if (cached != null) {
            return cached;
        }
        return fetchVersion(subject, Integer.toString(version));
    }

    @Override
    public boolean testCompatibility(String subject, Schema schema) {
        String path = "/compatibility/subjects/" + encode(subject) + "/versions/latest";
        try {
            JsonNode response = rest.send("POST", path, schemaBody(schema));
            JsonNode compatible = response.get("is_compatible");
            if (compatible == null || !compatible.isBoolean()) {
                throw malformedResponse("POST " + path, "is_compatible", response);
            }
            return compatible.booleanValue();
        } catch (SchemaRegistryException e) {
            if (e.isNotFound() && (e.errorCode() == SUBJECT_NOT_FOUND || e.errorCode() == VERSION_NOT_FOUND)) {
                return true; // nothing registered yet: any schema may be the first version
            }
            throw e;
        }
    }

    @Override
    public String getCompatibility(String subject) {
        String path = "/config/" + encode(subject) + "?defaultToGlobal=true";
        JsonNode response;
        try {
            response = rest.send("GET", path, null);
        } catch (SchemaRegistryException e) {
            if (!e.isNotFound()) {
                throw e;
            }
            // registries that ignore defaultToGlobal answer 404 for a subject without its own level
            path = "/config";
            response = rest.send("GET", path, null);
        }
        JsonNode level = response.get("compatibilityLevel");
        if (level == null) {
            level = response.get("compatibility");
        }
        if (level == null || !level.isTextual()) {
            throw malformedResponse("GET " + path, "compatibilityLevel", response);
        }
        return level.textValue();
    }

    @Override
    public void setCompatibility(String subject, String level) {
        // checked here: registries disagree on how they refuse an unknown level (422, 400)
        String checked = CompatibilityLevel.parse(level).name();
        ObjectNode body = JSON.createObjectNode().put("compatibility", checked);
        rest.send("PUT", "/config/" + encode(subject), body);
    }

    private SchemaVersion fetchVersion(String subject, String version) {
        String path = "/subjects/" + encode(subject) + "/versions/" + version;
        String request = "GET " + path;
        JsonNode response = rest.send("GET", path, null);
        int id = requiredInt(response, "id", request);
        int number = requiredInt(response, "version", request);
        Schema schema = schemaById.get(id);
        if (schema == null) {
            schema = parseSchema(response, request);
            schemaById.putIfAbsent(id, schema);
        }
        SchemaVersion result = new SchemaVersion(subject, number, id, schema);
        versionBySubjectAndNumber.putIfAbsent(subject + '\n' + number, result);
        idBySubjectAndSchema.computeIfAbsent(subject, s -> new ConcurrentHashMap<>()).putIfAbsent(schema, id);
        return result;
    }

    private Schema parseSchema(JsonNode response, String request) {
        JsonNode type = response.get("schemaType");
        if (type != null && !(type.isTextual() && "AVRO".equalsIgnoreCase(type.textValue()))) {
            throw SchemaRegistryException.unusableAnswer(200, request + " returned a " + abbreviate(type.toString())
                    + " schema, not AVRO", null);
        }
        JsonNode schema = response.get("schema");
        if (schema == null || !schema.isTextual()) {
            throw malformedResponse(request, "schema", response);
        }
        String text = schema.textValue();
        // a char is at most 3 UTF-8 bytes: count bytes only when the text could be over the bound
        if ((long) text.length() * 3 > maxSchemaBytes && text.getBytes(StandardCharsets.UTF_8).length > maxSchemaBytes) {
            throw SchemaRegistryException.unusableAnswer(200, request + " returned schema text over "
                    + maxSchemaBytes + " bytes (" + MAX_SCHEMA_BYTES_CONFIG + ")", null);
        }
        try {
            return new Schema.Parser().parse(text);
        } catch (SchemaParseException | StackOverflowError e) {
            throw SchemaRegistryException.unusableAnswer(200, request + " returned a schema Avro cannot parse: "
                    + abbreviate(String.valueOf(e.getMessage())), e instanceof SchemaParseException ? e : null);
        } catch (RuntimeException e) {
            throw SchemaRegistryException.unusableAnswer(200, request + " returned a schema Avro cannot parse: "
                    + abbreviate(e.toString()), e);
        }
    }

    private static String abbreviate(String text) {
        return text.length() > 200 ? text.substring(0, 200) + "..." : text;
    }

    private static int requiredInt(JsonNode response, String field, String request) {
        JsonNode value = response.get(field);
        if (value == null || !value.canConvertToInt()) {
            throw malformedResponse(request, field, response);
        }
        return value.intValue();
    }

    private static SchemaRegistryException malformedResponse(String request, String field, JsonNode response) {
        return SchemaRegistryException.unusableAnswer(200, request + " returned no '" + field + "': "
                + abbreviate(response.toString()), null);
    }

    private static ObjectNode schemaBody(Schema schema) {
        return JSON.createObjectNode().put("schema", schema.toString());
    }

    private static String encode(String pathSegment) {
        return URLEncoder.encode(pathSegment, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** Builds an {@link HttpSchemaRegistryClient}; every setting has a production default. */
    public static final class Builder {
        private final List<URI> urls = new ArrayList<>();
        private String authorization;
        private Duration connectTimeout = Duration.ofSeconds(10);
        private Duration requestTimeout = Duration.ofSeconds(30);
        private int maxRetries = 3;
        Duration initialBackoff = Duration.ofMillis(100);
        Duration maxBackoff = Duration.ofSeconds(5);
        private Duration latestCacheTtl = Duration.ofSeconds(60);
        private Duration missingIdCacheTtl = Duration.ofSeconds(30);
        private int maxResponseBytes = 1 << 20;
        private int maxSchemaBytes = 256 << 10;
        private Clock clock = Clock.systemUTC();
        private Sleeper sleeper = duration -> Thread.sleep(duration.toMillis());

        private Builder(List<String> urls) {
            for (String url : urls) {
                this.urls.add(URI.create(url.trim()));
            }
        }

        /** Basic auth from {@code user:password} (Confluent Cloud: API key and secret). */
        public Builder basicAuth(String userInfo) {
            Objects.requireNonNull(userInfo, "userInfo");
            this.authorization = "Basic " + Base64.getEncoder().encodeToString(userInfo.getBytes(StandardCharsets.UTF_8));
            return this;
        }

        /** Basic auth from a user and a password. */
        public Builder basicAuth(String user, String password) {
            return basicAuth(user + ":" + password);
        }

        /** A static bearer token sent as {@code Authorization: Bearer <token>}. */
        public Builder bearerToken(String token) {
            this.authorization = "Bearer " + Objects.requireNonNull(token, "token");
            return this;
        }

        /** TCP connect timeout (default 10 s). */
        public Builder connectTimeout(Duration timeout) {
            this.connectTimeout = positive(timeout, "connectTimeout");
            return this;
        }

        /** Timeout of one request until its response headers (default 30 s). */
        public Builder requestTimeout(Duration timeout) {
            this.requestTimeout = positive(timeout, "requestTimeout");
            return this;
        }

        /** Retries after the first attempt, for I/O errors and 5xx only (default 3). */
        public Builder maxRetries(int retries) {
            if (retries < 0) {
                throw new IllegalArgumentException("maxRetries must be >= 0");
            }
            this.maxRetries = retries;
            return this;
        }

        /** First backoff (default 100 ms), doubled after each retry up to {@code max} (default 5 s). */
        public Builder backoff(Duration initial, Duration max) {
            if (initial.isNegative() || max.compareTo(initial) < 0) {
                throw new IllegalArgumentException("backoff must satisfy 0 <= initial <= max");
            }
            this.initialBackoff = initial;
            this.maxBackoff = max;
            return this;
        }

        /** How long {@link #getLatestVersion} answers are reused (default 60 s; zero: never). */
        public Builder latestCacheTtl(Duration ttl) {
            if (ttl.isNegative()) {
                throw new IllegalArgumentException("latestCacheTtl must not be negative");
            }
            this.latestCacheTtl = ttl;
            return this;
        }

        /** How long an id lookup refused for good (404, 403, unusable schema) is remembered (default 30 s; zero: never). */
        public Builder missingIdCacheTtl(Duration ttl) {
            if (ttl.isNegative()) {
                throw new IllegalArgumentException("missingIdCacheTtl must not be negative");
            }
            this.missingIdCacheTtl = ttl;
            return this;
        }

        /** The largest response body read, in bytes (default 1 MiB); a longer one is refused unread. */
        public Builder maxResponseBytes(int bytes) {
            if (bytes < 1024) {
                throw new IllegalArgumentException("maxResponseBytes must be >= 1024");
            }
            this.maxResponseBytes = bytes;
            return this;
        }

        /** The largest schema text accepted, in UTF-8 bytes (default 256 KiB). */
        public Builder maxSchemaBytes(int bytes) {
            if (bytes < 1024) {
                throw new IllegalArgumentException("maxSchemaBytes must be >= 1024");
            }
            this.maxSchemaBytes = bytes;
            return this;
        }

        /** The clock for the latest-version and missing-id caches (tests use a fixed clock). */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        Builder sleeper(Sleeper sleeper) {
            this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
            return this;
        }

        /** The client. */
        public HttpSchemaRegistryClient build() {
            if (urls.isEmpty()) {
                throw new IllegalArgumentException("at least one schema registry URL is required");
            }
            for (URI url : urls) {
                if (url.getScheme() == null || !(url.getScheme().equals("http") || url.getScheme().equals("https"))) {
                    throw new IllegalArgumentException("schema registry URL '" + url + "' must start with http:// or https://");
                }
            }
            if (authorization == null && urls.get(0).getUserInfo() != null) {
                basicAuth(urls.get(0).getUserInfo());
            }
            return new HttpSchemaRegistryClient(this);
        }

        private static Duration positive(Duration d, String name) {
            if (d == null || d.isZero() || d.isNegative()) {
                throw new IllegalArgumentException(name + " must be positive");
            }
            return d;
        }
    }
}
