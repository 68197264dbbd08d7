package dev.metering.api.http;

import dev.metering.api.ApiException;
import io.javalin.http.Context;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * What every cursor-paginated listing ({@code {items, next}}) shares: the {@code limit} (1-1000,
 * default 100), the {@code after} cursor, and the page cut from {@code limit + 1} rows, the one
 * more telling whether a next page exists without a count query.
 */
public final class Paging {

    public static final int DEFAULT_LIMIT = 100;
    public static final int MAX_LIMIT = 1000;

    private Paging() {
    }

    /** The page size asked for by the {@code limit} query parameter {@code v} (null or empty: the default). */
    public static int limit(String v) {
        if (v == null || v.isEmpty()) {
            return DEFAULT_LIMIT;
        }
        int n;
        try {
            n = Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw ApiException.badRequest("limit", "'" + v + "' is not a whole number");
        }
        if (n < 1 || n > MAX_LIMIT) {
            throw ApiException.badRequest("limit", "must be 1-" + MAX_LIMIT + ", got " + n);
        }
        return n;
    }

    /** The {@code after} query parameter decoded by {@code decode}; null when absent or empty. */
    public static <C> C after(Context ctx, Function<String, C> decode) {
        String after = ctx.queryParam("after");
        return after == null || after.isEmpty() ? null : decode.apply(after);
    }

    /** Reads up to {@code limit} rows after the cursor {@code after} (null: from the start). */
    @FunctionalInterface
    public interface Reader<C, R> {
        List<R> read(C after, int limit);
    }

    /**
     * Answers one page of a listing as {@code {items, next}}: the {@code limit} and the {@code after}
     * cursor (decoded by {@code decode}) of the query, {@code limit + 1} rows from {@code read}.
     */
    public static <C, R, I> void answer(Context ctx, Function<String, C> decode, Reader<C, R> read,
                                        Function<R, I> item, Function<R, String> cursor) {
        int limit = limit(ctx.queryParam("limit"));
        List<R> rows = read.read(after(ctx, decode), limit + 1);
        ctx.json(page(rows, limit, item, cursor).body());
    }

    /** One page: its items and the cursor of the next page (null on the last one). */
    public record Page<I>(List<I> items, String next) {

        public Map<String, Object> body() {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("items", items);
            out.put("next", next);
            return out;
        }
    }

    /**
     * The page of {@code rows} (read with {@code limit + 1}): at most {@code limit} items, and
     * {@code cursor} of the last one when more rows follow.
     */
    public static <R, I> Page<I> page(List<R> rows, int limit, Function<R, I> item, Function<R, String> cursor) {
        boolean more = rows.size() > limit;
        List<R> page = more ? rows.subList(0, limit) : rows;
        return new Page<>(page.stream().map(item).toList(), more ? cursor.apply(page.get(page.size() - 1)) : null);
    }

    /** The cursor over a text key (an org or key id). */
    public static String encodeId(String id) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(id.getBytes(StandardCharsets.UTF_8));
    }

    public static String decodeId(String cursor) {
        try {
            String id = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
            if (id.isEmpty() || id.length() > Requests.MAX_ID_LENGTH) {
                throw new IllegalArgumentException();
            }
            return id;
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest("after", "not a cursor from a previous page's 'next'");
        }
    }
}
