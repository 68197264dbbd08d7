package dev.metering.api.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.locks.LockSupport;

/**
 * The open-loop HTTP load generator of {@link CheckBenchmark}, run in its own JVM so that it does
 * not share the server's heap, GC and JIT (it still shares the machine's cores, so its own CPU
 * use is printed next to every row).
 *
 * <p>Open loop: request i of a phase is due at {@code start + i / rate}, whatever happened to the
 * requests before it. A sender thread sleeps until each due time and writes the request on an
 * idle keep-alive connection; when all {@code connections} are busy the request waits for the
 * next free one. Its latency is measured from the due time to the last byte of the response, so
 * queueing anywhere (generator, kernel, server) is counted, never hidden (no coordinated
 * omission). One selector thread reads every connection. Requests still unanswered
 * {@link #DRAIN_NANOS} after a phase's last due time count as errors, as does any status
 * outside 2xx.
 *
 * <p>Routes: {@code noop} ({@code /health}), {@code check} (a random one of {@code orgs} orgs),
 * {@code check:ORG} (one org's check of CHAT_MESSAGE) and {@code reserve:ORG} (a reservation of
 * one CHAT_MESSAGE for ORG, a new requestId each, holding {@code ttl} seconds; its row adds the
 * allowed (201) and refused (200) counts). {@code ports=a,b} spreads the connections over
 * several API instances. {@code phase=N} also prints each route's requests due in the phases with
 * alerts on and off apart (see {@link CheckBenchmark}, {@code alerts=alternate}).
 *
 * <pre>
 * java -cp ... dev.metering.api.bench.LoadGenerator port=8080 token=... orgs=10000 rates=500,1000 seconds=10 \
 *      [connections=64] [serverPid=123] [receiverPid=456] [routes=noop,check] [ports=8080,8081] [ttl=1] [warm=5] [phase=10]
 * </pre>
 */
public final class LoadGenerator {

    static final long DRAIN_NANOS = 10_000_000_000L;
    /** With {@code phase=N}: requests due this soon after a phase starts are left out of the phase rows. */
    static final long PHASE_SETTLE_NANOS = 2_000_000_000L;
    private static final byte[] HEADER_END = {'\r', '\n', '\r', '\n'};

    private final InetSocketAddress[] addresses;
    private final String token;
    private final int maxConnections;
    private int opened;

    private LoadGenerator(InetSocketAddress[] addresses, String token, int maxConnections) {
        this.addresses = addresses;
        this.token = token;
        this.maxConnections = maxConnections;
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = new HashMap<>();
        for (String arg : args) {
            int eq = arg.indexOf('=');
            a.put(arg.substring(0, eq), arg.substring(eq + 1));
        }
        int port = Integer.parseInt(a.get("port"));
        String token = a.get("token");
        int orgs = Integer.parseInt(a.getOrDefault("orgs", "10000"));
        int[] rates = Arrays.stream(a.getOrDefault("rates", "500,1000,2000,5000").split(","))
                .mapToInt(Integer::parseInt).toArray();
        int seconds = Integer.parseInt(a.getOrDefault("seconds", "10"));
        int connections = Integer.parseInt(a.getOrDefault("connections", "64"));
        long serverPid = Long.parseLong(a.getOrDefault("serverPid", "-1"));
        long receiverPid = Long.parseLong(a.getOrDefault("receiverPid", "-1"));
        String[] order = a.getOrDefault("routes", "noop,check").split(",");
        int slowMillis = Integer.parseInt(a.getOrDefault("slow", "0"));
        int ttl = Integer.parseInt(a.getOrDefault("ttl", "1"));
        int warmSeconds = Integer.parseInt(a.getOrDefault("warm", "5"));
        int phaseSeconds = Integer.parseInt(a.getOrDefault("phase", "0"));
        int[] ports = Arrays.stream(a.getOrDefault("ports", Integer.toString(port)).split(","))
                .mapToInt(Integer::parseInt).toArray();

        LoadGenerator gen = new LoadGenerator(Arrays.stream(ports).mapToObj(p -> new InetSocketAddress("127.0.0.1", p))
                .toArray(InetSocketAddress[]::new), token, connections);
        byte[][] checks = new byte[orgs][];
        for (int o = 0; o < orgs; o++) {
            checks[o] = gen.request("/api/v1/usage/org-" + o + "/check/CHAT_MESSAGE?tokens=100");
        }
        HttpClient scraper = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        String base = "http://127.0.0.1:" + ports[0];

        System.out.println("warming up (" + (List.of(order).contains("check") ? "every org once, then " : "")
                + "every route) ...");
        if (List.of(order).contains("check")) {
            // every org once, in order (fills the account cache as a long-running server's would be)
            gen.run(i -> checks[i % orgs], 1000, Math.max(1, orgs / 1000));
        }
        int[] phase = {0};
        for (String route : order) {
            gen.run(gen.route(route, checks, new SplittableRandom(7), ttl, "w" + phase[0]++), 1000, warmSeconds);
        }

        System.out.println();
        System.out.println("| route | rate/s | sent | achieved/s | errors | p50 ms | p99 ms | p99.9 ms | max ms "
                + "| server-side <= 1 / 2 / 5 ms | server JVM CPU | PostgreSQL CPU | generator CPU | load1 "
                + "| CPU us per answer: server / PostgreSQL |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        for (int rate : rates) {
            for (String route : order) {
                String metricsRoute = route.startsWith("check") ? "/api/v1/usage/{orgId}/check/{feature}"
                        : route.startsWith("reserve:") ? "/api/v1/usage/{orgId}/reservations" : "/health";
                Requests requests = gen.route(route, checks, new SplittableRandom(42), ttl, "p" + phase[0]++);
                double[] before = serverBuckets(scraper, base, metricsRoute);
                Cpu cpu0 = Cpu.read(serverPid, receiverPid);
                Result r = gen.run(requests, rate, seconds);
                Cpu cpu1 = Cpu.read(serverPid, receiverPid);
                double[] after = serverBuckets(scraper, base, metricsRoute);
                String name = route.equals("check") ? "check" : route.equals("noop") ? "noop `/health`" : route;
                System.out.println(row(name, rate, r, before, after, cpu0, cpu1)
                        + (route.startsWith("reserve:") ? " allowed " + r.statuses().getOrDefault(201, 0) + ", refused "
                        + r.statuses().getOrDefault(200, 0) : ""));
                if (phaseSeconds > 0) {
                    for (boolean on : new boolean[] {false, true}) {
                        long[] l = phaseLatencies(r, phaseSeconds, on);
                        System.out.println(l.length == 0
                                ? String.format(Locale.ROOT, "| %s, alerts %s phases | %d | 0 | n/a |", name, on ? "on" : "off", rate)
                                : String.format(Locale.ROOT, "| %s, alerts %s phases | %d | %d | | | %.2f | %.2f | %.2f "
                                + "| %.2f | | | | | | |", name, on ? "on" : "off", rate, l.length, pct(l, 0.50), pct(l, 0.99),
                                pct(l, 0.999), l[l.length - 1] / 1e6));
                    }
                }
                if (slowMillis > 0) {
                    printSlow(r, slowMillis);
                }
            }
        }
        System.out.flush();
        System.exit(0);
    }

    /** The requests of a route (see the class comment); {@code phase} keeps requestIds unique across phases. */
    private Requests route(String route, byte[][] checks, SplittableRandom random, int ttl, String phase) {
        if (route.equals("noop")) {
            byte[] noop = request("/health");
            return i -> noop;
        }
        if (route.equals("check")) {
            return i -> checks[random.nextInt(checks.length)];
        }
        if (route.startsWith("check:")) {
            byte[] check = request("/api/v1/usage/" + route.substring(6) + "/check/CHAT_MESSAGE");
            return i -> check;
        }
        if (route.startsWith("reserve:")) {
            String path = "/api/v1/usage/" + route.substring(8) + "/reservations";
            return i -> post(path, "{\"requestId\":\"lg-" + phase + "-" + i + "\",\"feature\":\"CHAT_MESSAGE\","
                    + "\"ttlSeconds\":" + ttl + "}");
        }
        throw new IllegalArgumentException("unknown route " + route);
    }

    /** The bytes of one keep-alive GET. */
    private byte[] request(String path) {
        return ("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
                + token + "\r\nAccept: application/json\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    /** The bytes of one keep-alive POST of a JSON body. */
    private byte[] post(String path, String json) {
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        byte[] head = ("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token
                + "\r\nAccept: application/json\r\nContent-Type: application/json\r\nContent-Length: " + body.length
                + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        byte[] out = Arrays.copyOf(head, head.length + body.length);
        System.arraycopy(body, 0, out, head.length, body.length);
        return out;
    }

    @FunctionalInterface
    interface Requests {
        byte[] get(int index);
    }

    record Result(long[] latenciesNanos, long[] duesNanos, int errors, int completed, long firstDue,
                  long lastCompletion, Map<Integer, Integer> statuses) {
    }

    /** One keep-alive connection: owned either by the idle pool or by the request in flight on it. */
    private static final class Conn {
        final SocketChannel channel;
        ByteBuffer in = ByteBuffer.allocate(16 * 1024);
        // written by the sender before the request, read by the reader after the response
        volatile long due;
        volatile int index = -1;

        Conn(SocketChannel channel) {
            this.channel = channel;
        }
    }

    private final Object lock = new Object();

    /** Runs one phase: {@code rate * seconds} requests due at fixed times. */
    Result run(Requests requests, int rate, int seconds) throws IOException {
        int total = rate * seconds;
        long[] latencies = new long[total];
        long[] dues = new long[total];
        Arrays.fill(latencies, -1);
        Map<Integer, Integer> statuses = new HashMap<>();
        ArrayDeque<Conn> idle = new ArrayDeque<>();
        ArrayDeque<Integer> waiting = new ArrayDeque<>();
        Selector selector = Selector.open();
        for (int c = 0; c < maxConnections; c++) {
            idle.push(open(selector));
        }
        long interval = 1_000_000_000L / rate;
        long start = System.nanoTime() + 20_000_000L;
        for (int i = 0; i < total; i++) {
            dues[i] = start + i * interval;
        }
        long deadline = dues[total - 1] + DRAIN_NANOS;
        int[] counts = new int[2]; // completed, errors

        Thread sender = new Thread(() -> {
            for (int i = 0; i < total; i++) {
                long wait;
                while ((wait = dues[i] - System.nanoTime()) > 0) {
                    LockSupport.parkNanos(wait);
                }
                Conn c;
                synchronized (lock) {
                    c = idle.poll();
                    if (c == null) {
                        waiting.add(i);
                    }
                }
                if (c != null) {
                    send(c, i, dues[i], requests);
                }
            }
        }, "loadgen-sender");
        sender.setDaemon(true);
        sender.start();

        // the reader: this thread
        int done = 0;
        while (done < total && System.nanoTime() < deadline) {
            selector.select(100);
            Iterator<SelectionKey> it = selector.selectedKeys().iterator();
            while (it.hasNext()) {
                SelectionKey key = it.next();
                it.remove();
                Conn c = (Conn) key.attachment();
                int status = read(c);
                if (status == 0) {
                    continue; // response incomplete
                }
                long now = System.nanoTime();
                int index = c.index;
                if (index >= 0) {
                    latencies[index] = now - c.due;
                    done++;
                    statuses.merge(status, 1, Integer::sum);
                    if (status < 200 || status > 299) {
                        counts[1]++;
                    }
                }
                c.index = -1;
                if (status < 0) {
                    // connection closed or broken: replace it (it may have been idle)
                    key.cancel();
                    c.channel.close();
                    synchronized (lock) {
                        idle.remove(c);
                    }
                    c = open(selector);
                }
                Integer next;
                synchronized (lock) {
                    next = waiting.poll();
                    if (next == null) {
                        idle.push(c);
                    }
                }
                if (next != null) {
                    send(c, next, dues[next], requests);
                }
            }
        }
        long lastCompletion = System.nanoTime();
        int errors = counts[1];
        for (int i = 0; i < total; i++) {
            if (latencies[i] < 0) {
                // unanswered at the deadline: an error, with the time it had waited so far
                latencies[i] = deadline - dues[i];
                errors++;
                statuses.merge(-1, 1, Integer::sum);
            }
        }
        for (SelectionKey k : selector.keys()) {
            k.channel().close();
        }
        selector.close();
        synchronized (lock) {
            idle.clear();
        }
        return new Result(latencies, dues, errors, done, start, lastCompletion, statuses);
    }

    /** A new connection, to the instances in turn. */
    private Conn open(Selector selector) throws IOException {
        SocketChannel ch = SocketChannel.open(addresses[opened++ % addresses.length]);
        ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
        ch.configureBlocking(false);
        Conn c = new Conn(ch);
        ch.register(selector, SelectionKey.OP_READ, c);
        return c;
    }

    private static void send(Conn c, int index, long due, Requests requests) {
        c.due = due;
        c.index = index;
        ByteBuffer out = ByteBuffer.wrap(requests.get(index));
        try {
            // a few hundred bytes into an empty socket buffer: written at once
            while (out.hasRemaining()) {
                if (c.channel.write(out) == 0) {
                    Thread.onSpinWait();
                }
            }
        } catch (IOException e) {
            // the reader sees the broken connection and counts the request as an error
        }
    }

    /**
     * Reads what is available; returns 0 while the response is incomplete, its HTTP status when
     * complete, or -1 when the connection is closed or broken (the request in flight failed).
     */
    private static int read(Conn c) {
        try {
            if (!c.in.hasRemaining()) {
                c.in = ByteBuffer.allocate(c.in.capacity() * 2).put(c.in.flip());
            }
            int n = c.channel.read(c.in);
            if (n < 0) {
                return -1;
            }
            int status = complete(c.in.array(), c.in.position());
            if (status > 0) {
                c.in.clear();
            }
            return status;
        } catch (IOException e) {
            return -1;
        }
    }

    /** The status of a complete response in {@code buf[0, len)}, else 0 (Content-Length or chunked bodies). */
    static int complete(byte[] buf, int len) {
        int headerEnd = indexOf(buf, 0, len, HEADER_END);
        if (headerEnd < 0) {
            return 0;
        }
        String head = new String(buf, 0, headerEnd, StandardCharsets.ISO_8859_1);
        int status = Integer.parseInt(head.substring(9, 12));
        int bodyStart = headerEnd + 4;
        String lower = head.toLowerCase(Locale.ROOT);
        int cl = lower.indexOf("\r\ncontent-length:");
        if (cl >= 0) {
            int eol = lower.indexOf("\r\n", cl + 2);
            int length = Integer.parseInt(lower.substring(cl + 17, eol < 0 ? lower.length() : eol).trim());
            return len >= bodyStart + length ? status : 0;
        }
        if (lower.contains("\r\ntransfer-encoding: chunked")) {
            int p = bodyStart;
            while (true) {
                int eol = indexOf(buf, p, len, new byte[] {'\r', '\n'});
                if (eol < 0) {
                    return 0;
                }
                String size = new String(buf, p, eol - p, StandardCharsets.ISO_8859_1);
                int semi = size.indexOf(';');
                int chunk = Integer.parseInt((semi < 0 ? size : size.substring(0, semi)).trim(), 16);
                if (chunk == 0) {
                    // no trailers: the final CRLF follows at once
                    return len >= eol + 4 ? status : 0;
                }
                p = eol + 2 + chunk + 2;
                if (p > len) {
                    return 0;
                }
            }
        }
        return status; // no body
    }

    private static int indexOf(byte[] buf, int from, int len, byte[] what) {
        outer:
        for (int i = from; i <= len - what.length; i++) {
            for (int j = 0; j < what.length; j++) {
                if (buf[i + j] != what[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private static String row(String route, int rate, Result r, double[] before, double[] after, Cpu c0, Cpu c1) {
        long[] l = r.latenciesNanos().clone();
        Arrays.sort(l);
        double n = after[3] - before[3];
        double seconds = (r.lastCompletion() - r.firstDue()) / 1e9;
        double wall = (c1.nanos - c0.nanos) / 1e9;
        return String.format(Locale.ROOT,
                "| %s | %d | %d | %.0f | %d | %.2f | %.2f | %.2f | %.2f | %.1f%% / %.1f%% / %.1f%% | %.0f%% | %.0f%% | %.0f%%%s | %s "
                        + "| %.0f / %.0f |",
                route, rate, l.length, r.completed() / seconds, r.errors(), pct(l, 0.50), pct(l, 0.99), pct(l, 0.999),
                l[l.length - 1] / 1e6,
                100 * (after[0] - before[0]) / n, 100 * (after[1] - before[1]) / n, 100 * (after[2] - before[2]) / n,
                100 * (c1.serverCpuNanos - c0.serverCpuNanos) / 1e9 / wall,
                100 * (c1.childrenCpuNanos - c0.childrenCpuNanos) / 1e9 / wall,
                100 * (c1.ownCpuNanos - c0.ownCpuNanos) / 1e9 / wall,
                c1.receiverCpuNanos < 0 ? "" : String.format(Locale.ROOT, " (webhook receiver %.0f%%)",
                        100 * (c1.receiverCpuNanos - c0.receiverCpuNanos) / 1e9 / wall),
                loadAverage(), (c1.serverCpuNanos - c0.serverCpuNanos) / 1e3 / r.completed(),
                (c1.childrenCpuNanos - c0.childrenCpuNanos) / 1e3 / r.completed())
                + (r.errors() > 0 ? " statuses " + r.statuses() : "");
    }

    /** Exploration aid: when the requests slower than {@code slowMillis} were due, per 100 ms (wall clock). */
    private static void printSlow(Result r, int slowMillis) {
        long wallStart = System.currentTimeMillis() - (System.nanoTime() - r.firstDue()) / 1_000_000;
        long[] dues = r.duesNanos();
        Map<Long, int[]> buckets = new java.util.TreeMap<>();
        for (int i = 0; i < dues.length; i++) {
            if (r.latenciesNanos()[i] > slowMillis * 1_000_000L) {
                long bucket = (wallStart + (dues[i] - r.firstDue()) / 1_000_000) / 100 * 100;
                int[] b = buckets.computeIfAbsent(bucket, k -> new int[2]);
                b[0]++;
                b[1] = (int) Math.max(b[1], r.latenciesNanos()[i] / 1_000_000);
            }
        }
        buckets.forEach((t, b) -> System.out.printf(Locale.ROOT, "  slow at %s: %d requests, max %d ms%n",
                java.time.Instant.ofEpochMilli(t), b[0], b[1]));
    }

    /**
     * Whether alerts run at this wall-clock time under {@code CheckBenchmark alerts=alternate}: on
     * in the even {@code phaseSeconds}-long phases since the epoch, paused in the odd ones.
     */
    static boolean alertsOn(long epochMillis, int phaseSeconds) {
        return (epochMillis / (phaseSeconds * 1000L)) % 2 == 0;
    }

    /** The sorted latencies of the requests due in one kind of phase, each phase's first seconds left out. */
    private static long[] phaseLatencies(Result r, int phaseSeconds, boolean on) {
        long wallStartNanos = System.currentTimeMillis() * 1_000_000L - (System.nanoTime() - r.firstDue());
        long phaseNanos = phaseSeconds * 1_000_000_000L;
        long[] dues = r.duesNanos();
        long[] out = new long[dues.length];
        int n = 0;
        for (int i = 0; i < dues.length; i++) {
            long wall = wallStartNanos + (dues[i] - r.firstDue());
            if (alertsOn(wall / 1_000_000L, phaseSeconds) == on && wall % phaseNanos >= PHASE_SETTLE_NANOS) {
                out[n++] = r.latenciesNanos()[i];
            }
        }
        long[] l = Arrays.copyOf(out, n);
        Arrays.sort(l);
        return l;
    }

    private static double pct(long[] sorted, double p) {
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)] / 1e6;
    }

    /**
     * CPU time over a phase (100% = one core): the server JVM's, its other child processes' (the
     * PostgreSQL server and its backends, when the benchmark started it), this JVM's and the
     * webhook receiver's (a child of the server JVM too; -1 without one).
     */
    record Cpu(long nanos, long serverCpuNanos, long childrenCpuNanos, long ownCpuNanos, long receiverCpuNanos) {

        static Cpu read(long serverPid, long receiverPid) {
            long own = ProcessHandle.current().pid();
            long children = 0;
            if (serverPid >= 0) {
                Map<Long, Long> parents = new HashMap<>();
                Map<Long, Long> cpu = new HashMap<>();
                try (var dirs = Files.list(Path.of("/proc"))) {
                    dirs.forEach(d -> {
                        String name = d.getFileName().toString();
                        if (!name.chars().allMatch(Character::isDigit)) {
                            return;
                        }
                        long[] stat = stat(Long.parseLong(name));
                        if (stat != null) {
                            parents.put(Long.parseLong(name), stat[0]);
                            cpu.put(Long.parseLong(name), stat[1]);
                        }
                    });
                } catch (IOException | RuntimeException e) {
                    // not Linux: no figure
                }
                for (Map.Entry<Long, Long> p : cpu.entrySet()) {
                    if (p.getKey() != own && p.getKey() != receiverPid && descendsFrom(p.getKey(), serverPid, parents)) {
                        children += p.getValue();
                    }
                }
            }
            long[] server = stat(serverPid);
            long[] self = stat(own);
            long[] receiver = stat(receiverPid);
            return new Cpu(System.nanoTime(), server == null ? 0 : server[1], children, self == null ? 0 : self[1],
                    receiver == null ? -1 : receiver[1]);
        }

        private static boolean descendsFrom(long pid, long ancestor, Map<Long, Long> parents) {
            Long p = parents.get(pid);
            for (int depth = 0; p != null && p > 1 && depth < 16; depth++) {
                if (p == ancestor) {
                    return true;
                }
                p = parents.get(p);
            }
            return false;
        }

        /** {ppid, utime + stime in nanos} from /proc/pid/stat (clock ticks of 10 ms), or null. */
        private static long[] stat(long pid) {
            if (pid < 0) {
                return null;
            }
            try {
                String s = Files.readString(Path.of("/proc/" + pid + "/stat"));
                String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
                return new long[] {Long.parseLong(f[1]), (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10_000_000L};
            } catch (IOException | RuntimeException e) {
                return null;
            }
        }
    }

    /** Server-side latency histogram of a route from /metrics: cumulative counts at 1 ms, 2 ms, 5 ms and all. */
    private static double[] serverBuckets(HttpClient client, String base, String route) {
        double[] out = new double[4];
        try {
            String body = client.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).GET().build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            String[] le = {"0.001", "0.002", "0.005", "+Inf"};
            for (String line : body.split("\n")) {
                if (!line.startsWith("metering_api_request_duration_seconds_bucket{")
                        || !line.contains("route=\"" + route + "\"")) {
                    continue;
                }
                for (int i = 0; i < le.length; i++) {
                    if (line.contains("le=\"" + le[i] + "\"")) {
                        out[i] = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return out;
    }

    /** The machine's 1-minute load average (other processes compete for the same cores). */
    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (IOException | RuntimeException e) {
            return "?";
        }
    }
}
