package dev.metering.api.bulk;

import dev.metering.api.ApiException;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/** The request side shared by the bulk imports: the {@code dryRun} flag and the bounded body. */
public final class ImportBodies {

    private ImportBodies() {
    }

    /** true: CSV ({@code text/csv}); false: JSON lines (any JSON type); else 415. */
    public static boolean isCsv(Context ctx) {
        String contentType = ctx.contentType() == null ? "" : ctx.contentType().toLowerCase(Locale.ROOT);
        if (contentType.startsWith("text/csv")) {
            return true;
        }
        if (contentType.contains("json")) {
            return false;
        }
        throw new ApiException(415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type",
                "expected text/csv or JSON lines (application/x-ndjson), got '" + contentType + "'");
    }

    public static boolean dryRun(Context ctx) {
        String v = ctx.queryParam("dryRun");
        if (v == null || v.isEmpty() || v.equals("false")) {
            return false;
        }
        if (v.equals("true")) {
            return true;
        }
        throw ApiException.badRequest("dryRun", "expected true or false, got '" + v + "'");
    }

    private static final String BUFFERED = "metering.importBody";

    /** The body as UTF-8; the import bound (413 past it) is enforced on the bytes read, as for every body. */
    public static String read(Context ctx) throws IOException {
        byte[] buffered = ctx.attribute(BUFFERED);
        return new String(buffered != null ? buffered : readBounded(ctx), StandardCharsets.UTF_8);
    }

    /** Reads the body now, bounded as {@link #read}, and keeps it for {@link #read} (an idempotency key's hash). */
    public static byte[] buffer(Context ctx) throws IOException {
        byte[] body = readBounded(ctx);
        ctx.attribute(BUFFERED, body);
        return body;
    }

    private static byte[] readBounded(Context ctx) throws IOException {
        try (InputStream in = ctx.bodyInputStream()) {
            return in.readAllBytes();
        }
    }
}
