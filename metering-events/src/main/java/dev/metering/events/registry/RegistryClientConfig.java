package dev.metering.events.registry;

import static dev.metering.events.registry.HttpSchemaRegistryClient.BASIC_AUTH_CREDENTIALS_SOURCE_CONFIG;
import static dev.metering.events.registry.HttpSchemaRegistryClient.BASIC_AUTH_USER_INFO_CONFIG;
import static dev.metering.events.registry.HttpSchemaRegistryClient.BEARER_AUTH_CREDENTIALS_SOURCE_CONFIG;
import static dev.metering.events.registry.HttpSchemaRegistryClient.BEARER_AUTH_TOKEN_CONFIG;
import static dev.metering.events.registry.HttpSchemaRegistryClient.CONNECT_TIMEOUT_MS_CONFIG;
import static dev.metering.events.registry.HttpSchemaRegistryClient.LATEST_CACHE_TTL_SEC_CONFIG;
import static dev.metering.events.registry.HttpSchemaRegistryClient.MAX_RESPONSE_BYTES_CONFIG;
import static dev.metering.events.registry.HttpSchemaRegistryClient.MAX_RETRIES_CONFIG;
import static dev.metering.events.registry.HttpSchemaRegistryClient.MAX_SCHEMA_BYTES_CONFIG;
import static dev.metering.events.registry.HttpSchemaRegistryClient.MISSING_ID_CACHE_TTL_SEC_CONFIG;
import static dev.metering.events.registry.HttpSchemaRegistryClient.READ_TIMEOUT_MS_CONFIG;
import static dev.metering.events.registry.HttpSchemaRegistryClient.RETRIES_MAX_WAIT_MS_CONFIG;
import static dev.metering.events.registry.HttpSchemaRegistryClient.RETRIES_WAIT_MS_CONFIG;
import static dev.metering.events.registry.HttpSchemaRegistryClient.URL_CONFIG;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;

/** Confluent's schema registry configuration keys read into an {@link HttpSchemaRegistryClient.Builder}. */
final class RegistryClientConfig {

    private RegistryClientConfig() {
    }

    /**
     * A client from Confluent's configuration keys: {@value HttpSchemaRegistryClient#URL_CONFIG} (required, may be a
     * comma-separated list), {@value HttpSchemaRegistryClient#BASIC_AUTH_CREDENTIALS_SOURCE_CONFIG} ({@code USER_INFO}
     * or {@code URL}) with {@value HttpSchemaRegistryClient#BASIC_AUTH_USER_INFO_CONFIG},
     * {@value HttpSchemaRegistryClient#BEARER_AUTH_CREDENTIALS_SOURCE_CONFIG} ({@code STATIC_TOKEN}) with
     * {@value HttpSchemaRegistryClient#BEARER_AUTH_TOKEN_CONFIG}, and the timeout and retry keys of this class. Every key
     * other than the URL is also accepted with Confluent's {@code schema.registry.} prefix.
     *
     * @throws ConfigException naming every missing or invalid key
     */
    static HttpSchemaRegistryClient.Builder builder(Map<String, ?> config) {
        List<String> problems = new ArrayList<>();
        List<String> urls = urls(config.get(URL_CONFIG));
        if (urls.isEmpty()) {
            problems.add(URL_CONFIG + " is required");
        }
        HttpSchemaRegistryClient.Builder builder = HttpSchemaRegistryClient.builder(urls.toArray(String[]::new));
        String basicSource = string(config, BASIC_AUTH_CREDENTIALS_SOURCE_CONFIG);
        String bearerSource = string(config, BEARER_AUTH_CREDENTIALS_SOURCE_CONFIG);
        if (basicSource != null && bearerSource != null) {
            problems.add("only one of " + BASIC_AUTH_CREDENTIALS_SOURCE_CONFIG + " and "
                    + BEARER_AUTH_CREDENTIALS_SOURCE_CONFIG + " may be set");
        } else if (basicSource != null) {
            switch (basicSource.toUpperCase(Locale.ROOT)) {
                case "USER_INFO" -> {
                    String userInfo = string(config, BASIC_AUTH_USER_INFO_CONFIG);
                    if (userInfo == null || !userInfo.contains(":")) {
                        problems.add(BASIC_AUTH_USER_INFO_CONFIG + " must be user:password when "
                                + BASIC_AUTH_CREDENTIALS_SOURCE_CONFIG + "=USER_INFO");
                    } else {
                        builder.basicAuth(userInfo);
                    }
                }
                case "URL" -> {
                    String userInfo = urls.isEmpty() ? null : URI.create(urls.get(0)).getUserInfo();
                    if (userInfo == null) {
                        problems.add(URL_CONFIG + " carries no user:password although "
                                + BASIC_AUTH_CREDENTIALS_SOURCE_CONFIG + "=URL");
                    } else {
                        builder.basicAuth(userInfo);
                    }
                }
                default -> problems.add(BASIC_AUTH_CREDENTIALS_SOURCE_CONFIG + "=" + basicSource
                        + " is not supported (USER_INFO or URL)");
            }
        } else if (bearerSource != null) {
            String token = string(config, BEARER_AUTH_TOKEN_CONFIG);
            if (!"STATIC_TOKEN".equalsIgnoreCase(bearerSource)) {
                problems.add(BEARER_AUTH_CREDENTIALS_SOURCE_CONFIG + "=" + bearerSource
                        + " is not supported (STATIC_TOKEN)");
            } else if (token == null || token.isBlank()) {
                problems.add(BEARER_AUTH_TOKEN_CONFIG + " is required when "
                        + BEARER_AUTH_CREDENTIALS_SOURCE_CONFIG + "=STATIC_TOKEN");
            } else {
                builder.bearerToken(token);
            }
        }
        Long connect = number(config, CONNECT_TIMEOUT_MS_CONFIG, 1, problems);
        Long read = number(config, READ_TIMEOUT_MS_CONFIG, 1, problems);
        Long retries = number(config, MAX_RETRIES_CONFIG, 0, problems);
        Long wait = number(config, RETRIES_WAIT_MS_CONFIG, 0, problems);
        Long maxWait = number(config, RETRIES_MAX_WAIT_MS_CONFIG, 0, problems);
        Long ttl = number(config, LATEST_CACHE_TTL_SEC_CONFIG, 0, problems);
        Long missingTtl = number(config, MISSING_ID_CACHE_TTL_SEC_CONFIG, 0, problems);
        Long maxResponse = number(config, MAX_RESPONSE_BYTES_CONFIG, 1024, problems);
        Long maxSchema = number(config, MAX_SCHEMA_BYTES_CONFIG, 1024, problems);
        if (maxResponse != null && maxResponse > Integer.MAX_VALUE - 8) {
            problems.add(MAX_RESPONSE_BYTES_CONFIG + "=" + maxResponse + " must be < 2 GiB");
            maxResponse = null;
        }
        if (maxSchema != null && maxSchema > Integer.MAX_VALUE - 8) {
            problems.add(MAX_SCHEMA_BYTES_CONFIG + "=" + maxSchema + " must be < 2 GiB");
            maxSchema = null;
        }
        if (!problems.isEmpty()) {
            throw new ConfigException("Invalid schema registry configuration: " + String.join("; ", problems));
        }
        if (connect != null) {
            builder.connectTimeout(Duration.ofMillis(connect));
        }
        if (read != null) {
            builder.requestTimeout(Duration.ofMillis(read));
        }
        if (retries != null) {
            builder.maxRetries(retries.intValue());
        }
        if (wait != null || maxWait != null) {
            builder.backoff(wait != null ? Duration.ofMillis(wait) : builder.initialBackoff,
                    maxWait != null ? Duration.ofMillis(maxWait) : builder.maxBackoff);
        }
        if (ttl != null) {
            builder.latestCacheTtl(Duration.ofSeconds(ttl));
        }
        if (missingTtl != null) {
            builder.missingIdCacheTtl(Duration.ofSeconds(missingTtl));
        }
        if (maxResponse != null) {
            builder.maxResponseBytes(maxResponse.intValue());
        }
        if (maxSchema != null) {
            builder.maxSchemaBytes(maxSchema.intValue());
        }
        return builder;
    }

    private static List<String> urls(Object value) {
        List<String> urls = new ArrayList<>();
        if (value instanceof Collection<?> list) {
            list.forEach(v -> urls.addAll(urls(v)));
        } else if (value != null) {
            for (String url : value.toString().split(",")) {
                if (!url.isBlank()) {
                    urls.add(url.trim());
                }
            }
        }
        return urls;
    }

    private static String string(Map<String, ?> config, String key) {
        Object value = config.get(key);
        if (value == null) {
            value = config.get("schema.registry." + key);
        }
        return value == null || value.toString().isBlank() ? null : value.toString().trim();
    }

    private static Long number(Map<String, ?> config, String key, long min, List<String> problems) {
        String value = string(config, key);
        if (value == null) {
            return null;
        }
        try {
            long parsed = Long.parseLong(value);
            if (parsed < min) {
                problems.add(key + "=" + value + " must be >= " + min);
                return null;
            }
            return parsed;
        } catch (NumberFormatException e) {
            problems.add(key + "=" + value + " is not a whole number");
            return null;
        }
    }
}
