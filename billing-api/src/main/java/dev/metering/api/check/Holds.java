package dev.metering.api.check;

import dev.metering.api.plan.LimitScope;
import dev.metering.api.plan.PlanLimit;
import java.math.BigDecimal;
import java.util.List;
import java.util.Objects;

/**
 * An org's live reservation holds, summed per (feature, user, conversation). A hold counts against
 * every current window of each limit it falls under (the feature matches; for user and
 * conversation scope, the same user or conversation), whatever window its usage will land in: a
 * hold lives at most a day and over-counting while it lives is the safe side.
 */
public record Holds(List<Hold> holds) {

    public static final Holds NONE = new Holds(List.of());

    /** The amounts held for one (feature, user, conversation); user and conversation may be null. */
    public record Hold(String feature, String userId, String conversationId, long quantity, long tokens,
                       BigDecimal costUsd) {
        public Hold {
            Objects.requireNonNull(feature, "feature");
            costUsd = costUsd == null ? BigDecimal.ZERO : costUsd;
        }
    }

    public Holds {
        holds = List.copyOf(holds);
    }

    public boolean isEmpty() {
        return holds.isEmpty();
    }

    /** What is held against limit {@code l} for a request by {@code userId} in {@code conversationId}. */
    public BigDecimal held(PlanLimit l, String userId, String conversationId) {
        BigDecimal sum = BigDecimal.ZERO;
        for (Hold h : holds) {
            if (!l.appliesTo(h.feature())
                    || l.scope() == LimitScope.USER && (userId == null || !userId.equals(h.userId()))
                    || l.scope() == LimitScope.CONVERSATION
                    && (conversationId == null || !conversationId.equals(h.conversationId()))) {
                continue;
            }
            sum = sum.add(CheckEvaluator.amount(l, h.quantity(), h.tokens(), h.costUsd()));
        }
        return sum;
    }

    /** The money held against the prepaid balance. */
    public BigDecimal costUsd() {
        BigDecimal sum = BigDecimal.ZERO;
        for (Hold h : holds) {
            sum = sum.add(h.costUsd());
        }
        return sum;
    }
}
