package dev.metering.api.store;

import java.util.Collection;
import org.jooq.DSLContext;
import org.jooq.impl.DSL;
import org.jooq.impl.SQLDataType;

/**
 * Transaction-scoped advisory locks on orgs, for writes that read, decide and write in one
 * transaction (imports): a second transaction on any of the same orgs waits for the first to commit,
 * then reads what it wrote. An org maps to one of {@link #BUCKETS} keys per namespace, so a
 * 100,000-org import takes at most that many locks (PostgreSQL's lock table is shared and sized
 * per connection); keys are taken in ascending bucket order, so two transactions never wait on
 * each other in a cycle.
 */
final class OrgLocks {

    static final int BUCKETS = 1024;

    private OrgLocks() {
    }

    /** Locks the buckets of {@code orgIds} until {@code tx} ends; {@code namespace} keeps writers of different tables apart. */
    static void lock(DSLContext tx, String namespace, Collection<String> orgIds) {
        Integer[] buckets = orgIds.stream().map(OrgLocks::bucket).distinct().sorted().toArray(Integer[]::new);
        if (buckets.length == 0) {
            return;
        }
        // unnest yields the sorted array in order and each row takes its lock before the next
        tx.fetch("select pg_advisory_xact_lock(hashtextextended(? || b, 0)) from unnest(?) as b",
                "metering." + namespace + "/", DSL.val(buckets, SQLDataType.INTEGER.array()));
    }

    static int bucket(String orgId) {
        return Math.floorMod(orgId.hashCode(), BUCKETS);
    }
}
