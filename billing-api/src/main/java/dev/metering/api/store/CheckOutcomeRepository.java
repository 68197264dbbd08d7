package dev.metering.api.store;

import static dev.metering.db.jooq.Tables.CHECK_OUTCOMES_DAILY;

import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jooq.DSLContext;
import org.jooq.Query;

/** Adds counted check decisions to check_outcomes_daily (increments: instances add up). */
public final class CheckOutcomeRepository {

    /** One counter cell. */
    public record Key(LocalDate day, String orgId, String feature, String outcome, String code) {
    }

    private final DSLContext dsl;

    public CheckOutcomeRepository(DSLContext dsl) {
        this.dsl = dsl;
    }

    public void add(Map<Key, Long> counts) {
        if (counts.isEmpty()) {
            return;
        }
        List<Query> queries = new ArrayList<>(counts.size());
        counts.forEach((k, n) -> queries.add(dsl.insertInto(CHECK_OUTCOMES_DAILY)
                .set(CHECK_OUTCOMES_DAILY.DAY, k.day())
                .set(CHECK_OUTCOMES_DAILY.ORG_ID, k.orgId())
                .set(CHECK_OUTCOMES_DAILY.FEATURE, k.feature())
                .set(CHECK_OUTCOMES_DAILY.OUTCOME, k.outcome())
                .set(CHECK_OUTCOMES_DAILY.CODE, k.code())
                .set(CHECK_OUTCOMES_DAILY.CHECKS, n)
                .onConflict(CHECK_OUTCOMES_DAILY.DAY, CHECK_OUTCOMES_DAILY.ORG_ID, CHECK_OUTCOMES_DAILY.FEATURE,
                        CHECK_OUTCOMES_DAILY.OUTCOME, CHECK_OUTCOMES_DAILY.CODE)
                .doUpdate()
                .set(CHECK_OUTCOMES_DAILY.CHECKS, CHECK_OUTCOMES_DAILY.CHECKS.plus(org.jooq.impl.DSL.excluded(CHECK_OUTCOMES_DAILY.CHECKS)))));
        dsl.batch(queries).execute();
    }
}
