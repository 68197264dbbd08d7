package dev.metering.api.http;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import io.javalin.http.Context;
import java.io.IOException;

/** The API's JSON: camelCase, ISO-8601 UTC instants, nulls written (the contract lists every field). */
public final class Json {

    private Json() {
    }

    public static ObjectMapper mapper() {
        return new ObjectMapper()
                .registerModule(new JavaTimeModule())
                .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
                .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
                .setSerializationInclusion(JsonInclude.Include.ALWAYS);
    }

    /**
     * The hot routes' JSON, written straight to the response with its length: the same bytes as
     * {@code ctx.json}, without Javalin copying the result through a fresh 32 KiB buffer per
     * request (most of a check's garbage). Small bodies, so no compression is lost.
     */
    public static void write(Context ctx, ObjectMapper mapper, Object body) throws IOException {
        byte[] bytes = mapper.writeValueAsBytes(body);
        ctx.contentType("application/json");
        ctx.res().setContentLength(bytes.length);
        ctx.res().getOutputStream().write(bytes);
    }
}
