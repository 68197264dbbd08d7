package dev.metering.api.price;

import java.util.List;

/** A refused price book: every problem, each starting with where it is ({@code line 4, output_per_1m_usd: ...}). */
public final class PriceBookException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final List<String> problems;

    public PriceBookException(List<String> problems) {
        super(String.join("; ", problems), null, false, false);
        this.problems = List.copyOf(problems);
    }

    public List<String> problems() {
        return problems;
    }
}
