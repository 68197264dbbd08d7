package dev.metering.api.alert;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.UncheckedIOException;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The Standard Webhooks payload of an alert, {@code {"type", "timestamp", "data"}}, and its
 * message id ({@code webhook-id}: the same on every attempt and to every endpoint, so receivers
 * can drop repeats).
 */
public final class AlertPayloads {

    private static final SecureRandom RANDOM = new SecureRandom();

    private final ObjectMapper mapper;

    public AlertPayloads(ObjectMapper mapper) {
        this.mapper = mapper;
    }

    public String body(Alert alert, Instant at) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("type", alert.type().wireName());
        body.put("timestamp", at);
        body.put("data", alert.data());
        try {
            return mapper.writeValueAsString(body);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static String newMessageId() {
        byte[] b = new byte[16];
        RANDOM.nextBytes(b);
        return "msg_" + HexFormat.of().formatHex(b);
    }
}
