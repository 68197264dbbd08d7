package dev.metering.app;

import dev.metering.events.config.ConfigSource;
import java.time.Duration;
import picocli.CommandLine;

/** {@code 500ms}, {@code 10s}, {@code 5m}, {@code 2h} as everywhere in METERING_* configuration. */
final class DurationConverter implements CommandLine.ITypeConverter<Duration> {

    @Override
    public Duration convert(String value) {
        return ConfigSource.parseDuration(value.strip()).orElseThrow(() ->
                new CommandLine.TypeConversionException("'" + value + "' is not a duration such as 500ms, 10s, 5m or 2h"));
    }
}
