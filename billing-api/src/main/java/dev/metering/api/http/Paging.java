package dev.metering.api.http;

import dev.metering.api.ApiException;

/** The {@code limit} of every cursor-paginated listing ({@code {items, next}}): 1-1000, default 100. */
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
}
