package dev.metering.api.bulk;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.api.ApiException;
import dev.metering.api.audit.Actor;
import dev.metering.api.auth.Principal;
import dev.metering.api.http.Auth;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What the bulk imports share: the route (admin only, the {@code dryRun} flag, the bounded body
 * parsed into rows) and the answer's list of invalid rows.
 */
public final class ImportBodies {

    /** Invalid rows listed in an answer; more are counted ({@code rows - valid}) but not listed. */
    public static final int MAX_LISTED_INVALID = 1000;

    private ImportBodies() {
    }

    /** One import: {@code rows} sorted and, unless {@code dryRun}, applied; answers its JSON fields. */
    @FunctionalInterface
    public interface Run {
        Map<String, Object> answer(List<ImportRows.Row> rows, boolean dryRun, Actor actor);
    }

    /** An import route's handler: admin only, {@code dryRun}, the body's rows checked against {@code spec}, {@code run}'s answer. */
    public static Handler handler(Auth auth, ImportRows.Columns spec, ObjectMapper mapper, Run run) {
        return ctx -> {
            Principal principal = auth.requireAdmin(ctx);
            boolean dryRun = dryRun(ctx);
            List<ImportRows.Row> rows = rows(ctx, spec, mapper);
            ctx.json(run.answer(rows, dryRun, auth.actor(principal)));
        };
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

    /** The body's rows: CSV or JSON lines by its Content-Type (415 for any other), each checked against {@code spec}. */
    public static List<ImportRows.Row> rows(Context ctx, ImportRows.Columns spec, ObjectMapper mapper) throws IOException {
        boolean csv = isCsv(ctx);
        String body = read(ctx);
        return csv ? ImportRows.csv(body, spec) : ImportRows.jsonLines(body, spec, mapper);
    }

    /** The answer's {@code invalid}: the first {@value #MAX_LISTED_INVALID} problems as {@code {line, field, message}}. */
    public static List<Map<String, Object>> listed(List<ImportRows.Problem> invalid) {
        return invalid.stream().limit(MAX_LISTED_INVALID).map(p -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("line", p.line());
            m.put("field", p.field());
            m.put("message", p.message());
            return m;
        }).toList();
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
