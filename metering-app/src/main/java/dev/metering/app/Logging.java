package dev.metering.app;

/**
 * Chooses the console log level before logback starts: {@code dev} and {@code bench} keep the
 * console for their own output (ERROR only), tools log WARN, the services INFO. {@code -Dmetering.log.level=DEBUG} overrides. Dev mode also writes the
 * full INFO log to {@code .metering-dev/logs/metering.log} ({@code metering.log.file}).
 */
final class Logging {

    private Logging() {
    }

    static void configureFor(String[] args) {
        if (System.getProperty("metering.log.level") != null) {
            return;
        }
        String command = args.length == 0 ? "" : args[0];
        String level = switch (command) {
            case "dev", "bench" -> "ERROR";
            case "loadgen", "plans", "prices", "migrate" -> "WARN";
            default -> "INFO";
        };
        System.setProperty("metering.log.level", level);
    }

    /** Adds a file with the full INFO log (dev mode): the console stays readable, nothing is lost. */
    static void addFileLog(java.nio.file.Path file) {
        if (!(org.slf4j.LoggerFactory.getILoggerFactory() instanceof ch.qos.logback.classic.LoggerContext context)) {
            return;
        }
        var encoder = new ch.qos.logback.classic.encoder.PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern("%d{HH:mm:ss.SSS} %-5level [%thread] %logger{36} - %msg%n");
        encoder.start();
        var appender = new ch.qos.logback.core.FileAppender<ch.qos.logback.classic.spi.ILoggingEvent>();
        appender.setContext(context);
        appender.setName("FILE");
        appender.setFile(file.toString());
        appender.setAppend(true);
        appender.setEncoder(encoder);
        appender.start();
        context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).addAppender(appender);
    }
}
