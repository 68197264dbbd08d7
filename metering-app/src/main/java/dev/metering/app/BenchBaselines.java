package dev.metering.app;

import dev.metering.api.price.PriceBookFormat;
import dev.metering.api.price.PriceVersion;
import dev.metering.app.demo.TrafficGenerator;
import dev.metering.avro.UsageEvent;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.Date;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * (d) our users' current designs on the same PostgreSQL, in the bench's own schema
 * {@code bench_baseline} (created here, dropped at the end; not Flyway), each for one hot org and
 * for 10,000 orgs, best of several connection counts:
 * <ul>
 *   <li>(d1) one autocommitted {@code UPDATE ... SET count = count + 1 WHERE org = ? AND count < limit}
 *       per event;</li>
 *   <li>(d2) the seeds' per-message transaction (seed 000's counters on the org's row, seed 004's
 *       {@code usage_records} and balance): {@code SELECT ... FOR UPDATE} the org's counters, check
 *       the daily message, monthly token and balance limits in Java, {@code INSERT} a usage record
 *       (per-message fields and cost, two secondary indexes as the seed's), {@code UPDATE} the
 *       counters, {@code COMMIT}. The price is looked up in memory (the example price book), which
 *       spares the baseline the seed's price query.</li>
 * </ul>
 */
final class BenchBaselines {

    /** The best rate over the connection counts tried, and that count. */
    record Best(double rate, int connections) {
    }

    /** One connection's unit of work; returns whether it counted (a refused message does not). */
    private interface Work {
        boolean once(String org) throws SQLException;
    }

    private interface WorkFactory {
        Work open(Connection c) throws SQLException;
    }

    private static final String SCHEMA = "bench_baseline";

    private final String url;
    private final String user;
    private final String password;
    private final int seconds;
    private final int[] connections;
    private final PrintStream out;
    private final Map<String, TokenPrices> prices;
    private final UsageEvent[] messages;

    BenchBaselines(DevStack stack, int seconds, int[] connections, PrintStream out) throws Exception {
        this.url = stack.postgres().jdbcUrl();
        this.user = stack.postgres().user();
        this.password = stack.postgres().password();
        this.seconds = seconds;
        this.connections = connections;
        this.out = out;
        this.prices = prices(DevCommand.resource("examples/model-prices.csv"));
        // the messages' fields come from the pipeline's traffic; the org is drawn per transaction
        TrafficGenerator generator = new TrafficGenerator(41, Clock.systemUTC());
        messages = new UsageEvent[4096];
        for (int i = 0; i < messages.length; i++) {
            messages[i] = generator.next("org", 1 + i % 6);
        }
        try (Connection c = connect(); Statement st = c.createStatement()) {
            st.execute("DROP SCHEMA IF EXISTS " + SCHEMA + " CASCADE");
            st.execute("CREATE SCHEMA " + SCHEMA);
        }
    }

    /** Per model ({@code provider/model}): nano-USD per 1M input, cached input and output tokens. */
    /** A model's list prices in nano-USD per 1M tokens. */
    record TokenPrices(long inputPer1MNanos, long cachedInputPer1MNanos, long outputPer1MNanos) {
    }

    static Map<String, TokenPrices> prices(String csv) {
        Map<String, TokenPrices> prices = new HashMap<>();
        for (PriceVersion p : PriceBookFormat.parseCsv(csv)) {
            prices.put(p.key(), new TokenPrices(nanos(p.inputPer1mUsd()), nanos(p.cachedInputPer1mUsd()),
                    nanos(p.outputPer1mUsd())));
        }
        return prices;
    }

    private static long nanos(java.math.BigDecimal usd) {
        return usd == null ? 0 : usd.movePointRight(9).longValueExact();
    }

    /** (d1) for {@code orgs} orgs. */
    Best singleUpdate(int orgs) throws Exception {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            st.execute("DROP TABLE IF EXISTS " + SCHEMA + ".org_usage");
            st.execute("CREATE TABLE " + SCHEMA + ".org_usage (org_id text PRIMARY KEY, message_count bigint NOT NULL, "
                    + "message_limit bigint NOT NULL)");
            st.execute("INSERT INTO " + SCHEMA + ".org_usage SELECT 'org-' || g, 0, 9000000000000 FROM generate_series(1, "
                    + orgs + ") g");
            st.execute("VACUUM ANALYZE " + SCHEMA + ".org_usage");
        }
        return best("(d1) per-event UPDATE", orgs, c -> {
            PreparedStatement ps = c.prepareStatement("UPDATE " + SCHEMA + ".org_usage SET message_count = message_count + 1 "
                    + "WHERE org_id = ? AND message_count < message_limit");
            return org -> {
                ps.setString(1, org);
                return ps.executeUpdate() == 1;
            };
        });
    }

    /** (d2) for {@code orgs} orgs. */
    Best perMessageTransaction(int orgs) throws Exception {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            st.execute("DROP TABLE IF EXISTS " + SCHEMA + ".org_counters");
            st.execute("DROP TABLE IF EXISTS " + SCHEMA + ".usage_records");
            st.execute("CREATE TABLE " + SCHEMA + ".org_counters (org_id text PRIMARY KEY, plan text NOT NULL, "
                    + "daily_message_count bigint NOT NULL, daily_message_date date, daily_message_limit bigint NOT NULL, "
                    + "monthly_tokens_used bigint NOT NULL, monthly_tokens_limit bigint NOT NULL, "
                    + "balance_nanos bigint NOT NULL, updated_at timestamptz NOT NULL)");
            st.execute("INSERT INTO " + SCHEMA + ".org_counters SELECT 'org-' || g, 'PRO', 0, NULL, 9000000000000, 0, "
                    + "9000000000000000, 9000000000000000000, now() FROM generate_series(1, " + orgs + ") g");
            st.execute("CREATE TABLE " + SCHEMA + ".usage_records (id bigserial PRIMARY KEY, org_id text NOT NULL, "
                    + "user_id text, conversation_id text, feature text NOT NULL, provider text, model text, "
                    + "input_tokens bigint NOT NULL, cached_input_tokens bigint NOT NULL, output_tokens bigint NOT NULL, "
                    + "cost_nanos bigint NOT NULL, occurred_at timestamptz NOT NULL, created_at timestamptz NOT NULL DEFAULT now())");
            st.execute("CREATE INDEX ON " + SCHEMA + ".usage_records (org_id, created_at)");
            st.execute("CREATE INDEX ON " + SCHEMA + ".usage_records (user_id, created_at)");
            st.execute("VACUUM ANALYZE " + SCHEMA + ".org_counters");
        }
        return best("(d2) per-message transaction", orgs, c -> {
            c.setAutoCommit(false);
            PreparedStatement select = c.prepareStatement("SELECT daily_message_count, daily_message_date, daily_message_limit, "
                    + "monthly_tokens_used, monthly_tokens_limit, balance_nanos FROM " + SCHEMA + ".org_counters "
                    + "WHERE org_id = ? FOR UPDATE");
            PreparedStatement insert = c.prepareStatement("INSERT INTO " + SCHEMA + ".usage_records (org_id, user_id, "
                    + "conversation_id, feature, provider, model, input_tokens, cached_input_tokens, output_tokens, cost_nanos, "
                    + "occurred_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
            PreparedStatement update = c.prepareStatement("UPDATE " + SCHEMA + ".org_counters SET daily_message_count = ?, "
                    + "daily_message_date = ?, monthly_tokens_used = ?, balance_nanos = ?, updated_at = now() WHERE org_id = ?");
            int[] next = {ThreadLocalRandom.current().nextInt(messages.length)};
            return org -> {
                UsageEvent m = messages[next[0]++ & (messages.length - 1)];
                select.setString(1, org);
                Counters counters;
                try (ResultSet rs = select.executeQuery()) {
                    rs.next();
                    Date day = rs.getDate(2);
                    counters = new Counters(rs.getLong(1), day == null ? null : day.toLocalDate(), rs.getLong(3), rs.getLong(4),
                            rs.getLong(5), rs.getLong(6));
                }
                LocalDate today = LocalDate.now(ZoneOffset.UTC);
                long tokens = m.getInputTokens() + m.getCachedInputTokens() + m.getOutputTokens();
                long cost = cost(m);
                if (!counters.allows(today, tokens, cost)) {
                    c.rollback();
                    return false;
                }
                insert.setString(1, org);
                insert.setString(2, m.getUserId());
                insert.setString(3, m.getConversationId());
                insert.setString(4, m.getFeature());
                insert.setString(5, m.getProvider());
                insert.setString(6, m.getModel());
                insert.setLong(7, m.getInputTokens());
                insert.setLong(8, m.getCachedInputTokens());
                insert.setLong(9, m.getOutputTokens());
                insert.setLong(10, cost);
                insert.setTimestamp(11, Timestamp.from(m.getOccurredAt()));
                insert.executeUpdate();
                update.setLong(1, counters.messagesToday(today) + 1);
                update.setDate(2, Date.valueOf(today));
                update.setLong(3, counters.tokensUsed() + tokens);
                update.setLong(4, counters.balanceNanos() - cost);
                update.setString(5, org);
                update.executeUpdate();
                c.commit();
                return true;
            };
        });
    }

    /** An org's counters row as the seeds keep it (seed 000's daily message and monthly token counters, seed 004's balance). */
    record Counters(long messages, LocalDate messagesDay, long messageLimit, long tokensUsed, long tokenLimit, long balanceNanos) {

        /** Messages counted today: the daily counter restarts on a new day. */
        long messagesToday(LocalDate today) {
            return today.equals(messagesDay) ? messages : 0;
        }

        boolean allows(LocalDate today, long tokens, long costNanos) {
            return messagesToday(today) < messageLimit && tokensUsed + tokens <= tokenLimit && balanceNanos >= costNanos;
        }
    }

    /** The message's cost in nano-USD at the example price book's list prices (unknown model: 0). */
    private long cost(UsageEvent m) {
        return cost(m, prices);
    }

    static long cost(UsageEvent m, Map<String, TokenPrices> prices) {
        TokenPrices p = m.getModel() == null ? null : prices.get(m.getProvider() + "/" + m.getModel());
        if (p == null) {
            return 0;
        }
        return (m.getInputTokens() * p.inputPer1MNanos() + m.getCachedInputTokens() * p.cachedInputPer1MNanos()
                + m.getOutputTokens() * p.outputPer1MNanos()) / 1_000_000;
    }

    /** Runs {@code factory}'s work on each connection count for {@code seconds}; returns the best. */
    private Best best(String label, int orgs, WorkFactory factory) throws Exception {
        double best = 0;
        int bestConnections = 0;
        for (int n : connections) {
            LongAdder done = new LongAdder();
            LongAdder refused = new LongAdder();
            AtomicBoolean stop = new AtomicBoolean();
            List<Thread> threads = new ArrayList<>();
            List<Connection> open = new ArrayList<>();
            List<Throwable> errors = java.util.Collections.synchronizedList(new ArrayList<>());
            for (int t = 0; t < n; t++) {
                Connection c = connect();
                open.add(c);
                Work work = factory.open(c);
                threads.add(new Thread(() -> {
                    try {
                        while (!stop.get()) {
                            String org = "org-" + (orgs == 1 ? 1 : 1 + ThreadLocalRandom.current().nextInt(orgs));
                            if (work.once(org)) {
                                done.increment();
                            } else {
                                refused.increment();
                            }
                        }
                    } catch (Exception e) {
                        if (!stop.get()) {
                            errors.add(e);
                        }
                    }
                }, "bench-baseline-" + t));
            }
            long start = System.nanoTime();
            threads.forEach(Thread::start);
            Thread.sleep(seconds * 1000L);
            stop.set(true);
            for (Thread t : threads) {
                t.join(30_000);
            }
            double rate = done.sum() / ((System.nanoTime() - start) / 1e9);
            for (Connection c : open) {
                c.close();
            }
            if (!errors.isEmpty()) {
                throw new IllegalStateException(label + " failed: " + errors.get(0), errors.get(0));
            }
            out.printf("%s, %s, %d connection(s): %,.0f events/s%s%n", label, orgs == 1 ? "hot org" : orgs + " orgs", n, rate,
                    refused.sum() > 0 ? String.format(" (%,d refused by a limit)", refused.sum()) : "");
            if (rate > best) {
                best = rate;
                bestConnections = n;
            }
        }
        return new Best(best, bestConnections);
    }

    /** Drops the baselines' schema, so that what follows runs on the pipeline's tables only. */
    void dropSchema() throws SQLException {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            st.execute("DROP SCHEMA IF EXISTS " + SCHEMA + " CASCADE");
        }
    }

    private Connection connect() throws SQLException {
        return DriverManager.getConnection(url, user, password);
    }
}
