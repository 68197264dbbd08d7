package dev.metering.api.plan;

import java.util.List;

/** A catalog was refused; {@link #problems()} names every problem with its path. */
public final class CatalogValidationException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final List<String> problems;

    public CatalogValidationException(List<String> problems) {
        super("invalid plan catalog: " + String.join("; ", problems));
        this.problems = List.copyOf(problems);
    }

    public List<String> problems() {
        return problems;
    }
}
