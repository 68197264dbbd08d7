package dev.metering.events.config;

import java.io.IOException;
import java.io.Reader;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Where a service reads its {@code METERING_*} settings (docs/contract.md, Configuration): the environment, or a
 * properties file with the same keys. The typed getters never throw for bad values: they record
 * a problem naming the variable and return the default, so a service reads all its settings,
 * then calls {@link #throwIfInvalid()} once and reports every problem together:
 *
 * <pre>{@code
 * ConfigSource source = ConfigSource.fromEnvironment();
 * String bootstrap = source.requiredString("METERING_KAFKA_BOOTSTRAP");
 * Duration grace = source.duration("METERING_GRACE", Duration.ofHours(48));
 * int canary = source.intInRange("METERING_ENFORCEMENT_CANARY_PERCENT", 0, 0, 100);
 * source.throwIfInvalid();
 * }</pre>
 *
 * <p>Blank values count as absent. Not thread-safe: read the configuration once at start-up.
 */
public final class ConfigSource {

    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)");

    private final Map<String, String> values;
    private final List<String> problems = new ArrayList<>();

    private ConfigSource(Map<String, String> values) {
        this.values = Map.copyOf(values);
    }

    /** The given variables, e.g. {@code System.getenv()} or a test's map. */
    public static ConfigSource of(Map<String, String> values) {
        return new ConfigSource(values);
    }

    /** The process environment. */
    public static ConfigSource fromEnvironment() {
        return of(System.getenv());
    }

    /** A properties object with the same keys as the environment variables. */
    public static ConfigSource fromProperties(Properties properties) {
        Map<String, String> map = new TreeMap<>();
        properties.stringPropertyNames().forEach(name -> map.put(name, properties.getProperty(name)));
        return of(map);
    }

    /**
     * A properties file (UTF-8) with the same keys as the environment variables.
     *
     * @throws ConfigException when the file cannot be read
     */
    public static ConfigSource fromPropertiesFile(Path file) {
        Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            properties.load(reader);
        } catch (IOException e) {
            throw new ConfigException(List.of("cannot read configuration file " + file + ": " + e.getMessage()));
        }
        return fromProperties(properties);
    }

    /** This source with {@code overrides} taking precedence, e.g. a file overridden by the environment. */
    public ConfigSource overriddenBy(ConfigSource overrides) {
        Map<String, String> merged = new TreeMap<>(values);
        merged.putAll(overrides.values);
        return of(merged);
    }

    /** The raw value, if set and not blank. */
    public Optional<String> get(String name) {
        String value = values.get(name);
        return value == null || value.isBlank() ? Optional.empty() : Optional.of(value.trim());
    }

    /** Every set variable whose name starts with {@code prefix}, sorted by name. */
    public Map<String, String> withPrefix(String prefix) {
        return values.entrySet().stream()
                .filter(e -> e.getKey().startsWith(prefix) && e.getValue() != null && !e.getValue().isBlank())
                .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().trim(), (a, b) -> a, TreeMap::new));
    }

    /** A string, or {@code defaultValue} when absent. */
    public String string(String name, String defaultValue) {
        return get(name).orElse(defaultValue);
    }

    /** A string that must be set; records a problem (and returns null) when absent. */
    public String requiredString(String name) {
        Optional<String> value = get(name);
        if (value.isEmpty()) {
            problem(name, "is required");
            return null;
        }
        return value.get();
    }

    /** An int in {@code [min, max]}, or {@code defaultValue} when absent. */
    public int intInRange(String name, int defaultValue, int min, int max) {
        return (int) longInRange(name, defaultValue, min, max);
    }

    /** A long in {@code [min, max]}, or {@code defaultValue} when absent. */
    public long longInRange(String name, long defaultValue, long min, long max) {
        Optional<String> value = get(name);
        if (value.isEmpty()) {
            return defaultValue;
        }
        try {
            long parsed = Long.parseLong(value.get());
            if (parsed < min || parsed > max) {
                problem(name, "'" + value.get() + "' is outside " + min + ".." + max);
                return defaultValue;
            }
            return parsed;
        } catch (NumberFormatException e) {
            problem(name, "'" + value.get() + "' is not a whole number");
            return defaultValue;
        }
    }

    /** {@code true} or {@code false} (case-insensitive), or {@code defaultValue} when absent. */
    public boolean bool(String name, boolean defaultValue) {
        Optional<String> value = get(name);
        if (value.isEmpty()) {
            return defaultValue;
        }
        String v = value.get().toLowerCase(Locale.ROOT);
        if (v.equals("true") || v.equals("false")) {
            return Boolean.parseBoolean(v);
        }
        problem(name, "'" + value.get() + "' is not true or false");
        return defaultValue;
    }

    /** {@code on} or {@code off} (also {@code true} / {@code false}; case-insensitive), or {@code defaultValue} when absent. */
    public boolean onOff(String name, boolean defaultValue) {
        Optional<String> value = get(name);
        if (value.isEmpty()) {
            return defaultValue;
        }
        switch (value.get().toLowerCase(Locale.ROOT)) {
            case "on", "true":
                return true;
            case "off", "false":
                return false;
            default:
                problem(name, "'" + value.get() + "' is not on or off");
                return defaultValue;
        }
    }

    /** A non-negative decimal such as a price ({@code 0.002}), or {@code defaultValue} when absent. */
    public BigDecimal decimal(String name, BigDecimal defaultValue) {
        Optional<String> value = get(name);
        if (value.isEmpty()) {
            return defaultValue;
        }
        try {
            BigDecimal parsed = new BigDecimal(value.get());
            if (parsed.signum() < 0) {
                problem(name, "'" + value.get() + "' must not be negative");
                return defaultValue;
            }
            return parsed;
        } catch (NumberFormatException e) {
            problem(name, "'" + value.get() + "' is not a decimal number");
            return defaultValue;
        }
    }

    /**
     * A non-negative duration: a whole number with a unit, {@code 500ms}, {@code 60s},
     * {@code 15m}, {@code 48h}, {@code 7d}, or ISO-8601 ({@code PT48H}); {@code defaultValue}
     * when absent.
     */
    public Duration duration(String name, Duration defaultValue) {
        Optional<String> value = get(name);
        if (value.isEmpty()) {
            return defaultValue;
        }
        Optional<Duration> parsed = parseDuration(value.get());
        if (parsed.isEmpty()) {
            problem(name, "'" + value.get() + "' is not a duration (use 500ms, 60s, 15m, 48h, 7d)");
            return defaultValue;
        }
        return parsed.get();
    }

    /**
     * An enum constant, matched case-insensitively with {@code -} read as {@code _}
     * ({@code fail-open} → {@code FAIL_OPEN}); {@code defaultValue} when absent.
     */
    public <E extends Enum<E>> E enumValue(String name, Class<E> type, E defaultValue) {
        Optional<String> value = get(name);
        if (value.isEmpty()) {
            return defaultValue;
        }
        String constant = value.get().toUpperCase(Locale.ROOT).replace('-', '_');
        for (E candidate : type.getEnumConstants()) {
            if (candidate.name().equals(constant)) {
                return candidate;
            }
        }
        problem(name, "'" + value.get() + "' is not one of " + Arrays.stream(type.getEnumConstants())
                .map(e -> e.name().toLowerCase(Locale.ROOT).replace('_', '-'))
                .collect(Collectors.joining("|")));
        return defaultValue;
    }

    /**
     * Records a problem found by the caller (e.g. a check across two variables); the same problem
     * found twice (two settings reading one variable) is listed once.
     */
    public void problem(String name, String description) {
        String problem = name + ": " + description;
        if (!problems.contains(problem)) {
            problems.add(problem);
        }
    }

    /** Every problem recorded so far. */
    public List<String> problems() {
        return List.copyOf(problems);
    }

    /**
     * Throws one {@link ConfigException} listing every problem recorded so far, if any.
     *
     * @throws ConfigException when any getter or {@link #problem} recorded a problem
     */
    public void throwIfInvalid() {
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
    }

    /** Parses {@code 500ms}, {@code 60s}, {@code 15m}, {@code 48h}, {@code 7d} or ISO-8601; empty if invalid. */
    public static Optional<Duration> parseDuration(String text) {
        String trimmed = text.trim();
        Matcher m = DURATION.matcher(trimmed.toLowerCase(Locale.ROOT));
        if (m.matches()) {
            try {
                long amount = Long.parseLong(m.group(1));
                return Optional.of(switch (m.group(2)) {
                    case "ms" -> Duration.ofMillis(amount);
                    case "s" -> Duration.ofSeconds(amount);
                    case "m" -> Duration.ofMinutes(amount);
                    case "h" -> Duration.ofHours(amount);
                    default -> Duration.ofDays(amount);
                });
            } catch (ArithmeticException | NumberFormatException e) {
                return Optional.empty();
            }
        }
        if (trimmed.toUpperCase(Locale.ROOT).startsWith("P")) {
            try {
                Duration d = Duration.parse(trimmed);
                return d.isNegative() ? Optional.empty() : Optional.of(d);
            } catch (DateTimeParseException e) {
                return Optional.empty();
            }
        }
        return Optional.empty();
    }
}
