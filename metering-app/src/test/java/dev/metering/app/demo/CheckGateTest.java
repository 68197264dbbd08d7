package dev.metering.app.demo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.metering.avro.UsageEvent;
import dev.metering.events.UsageEvents;
import java.net.ConnectException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class CheckGateTest {

    private static final Instant T0 = Instant.parse("2026-12-06T12:00:00Z");

    private final TestClock clock = new TestClock(T0);
    private final List<String> asked = new ArrayList<>();
    private final Deque<Object> answers = new ArrayDeque<>();
    private final CheckGate gate = new CheckGate(path -> {
        asked.add(path);
        Object next = answers.removeFirst();
        if (next instanceof ConnectException e) {
            throw e;
        }
        return (CheckGate.Answer) next;
    }, clock);

    @Test
    void shouldAskForTheEventsOrgFeatureQuantityPromptTokensUserAndConversation() throws Exception {
        answers.add(allowed());

        assertThat(gate.allows(UsageEvents.builder(clock, UUID::randomUUID).org("org-00001").feature("CHAT_MESSAGE")
                .user("user 3").conversation("conv-7").model("openai", "gpt-5-mini").tokens(800, 200)
                .cachedInputTokens(100).cacheWriteTokens(20).build())).isTrue();

        assertThat(asked).containsExactly("/api/v1/usage/org-00001/check/CHAT_MESSAGE?quantity=1&tokens=920"
                + "&userId=user%203&conversationId=conv-7");
    }

    @Test
    void shouldSendOnlyWhatTheCheckAllowsAndCountRefusalsByCode() throws Exception {
        answers.add(allowed());
        answers.add(refused("MONTHLY_TOKEN_LIMIT_EXCEEDED"));
        answers.add(refused("MONTHLY_TOKEN_LIMIT_EXCEEDED"));
        answers.add(refused("DAILY_MESSAGE_LIMIT_EXCEEDED"));
        answers.add(new CheckGate.Answer(200, "{\"allowed\":true,\"wouldBlock\":true,\"mode\":\"shadow\"}"));

        List<Boolean> sent = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            sent.add(gate.allows(message()));
        }

        assertThat(sent).containsExactly(true, false, false, false, true);
        assertThat(gate.lastProblem()).isNull();
        assertThat(gate.summary()).isEqualTo("demo checks before sending: 2 allowed (1 would block), 3 refused "
                + "(DAILY_MESSAGE_LIMIT_EXCEEDED 1, MONTHLY_TOKEN_LIMIT_EXCEEDED 2), 0 without an answer");
    }

    @Test
    void shouldSendNothingWhileTheApiIsDownAndAskAgainAfterThePause() throws Exception {
        answers.add(new ConnectException("Connection refused"));

        assertThat(gate.allows(message())).isFalse();
        clock.advance(CheckGate.PAUSE.minusMillis(1));
        assertThat(gate.allows(message())).isFalse();
        assertThat(asked).hasSize(1);

        clock.advance(Duration.ofMillis(1));
        answers.add(new CheckGate.Answer(503, "{\"error\":{\"code\":\"UNAVAILABLE\",\"message\":\"database down\"}}"));
        assertThat(gate.allows(message())).isFalse();
        clock.advance(CheckGate.PAUSE);
        answers.add(allowed());
        assertThat(gate.allows(message())).isTrue();

        assertThat(asked).hasSize(3);
        assertThat(gate.allowed()).isEqualTo(1);
        assertThat(gate.unanswered()).isEqualTo(3);
        assertThat(gate.summary()).isEqualTo("demo checks before sending: 1 allowed, 0 refused, 3 without an answer");
        assertThat(gate.lastProblem()).isEqualTo("HTTP 503");
    }

    @Test
    void shouldNotSendOnAClientErrorOrAnUnreadableAnswerAndKeepAsking() throws Exception {
        answers.add(new CheckGate.Answer(400, "{\"error\":{\"code\":\"BAD_REQUEST\",\"message\":\"userId is required\"}}"));
        answers.add(new CheckGate.Answer(200, "<html>proxy error</html>"));
        answers.add(new CheckGate.Answer(200, "{\"orgId\":\"org-00001\"}"));

        assertThat(gate.allows(message())).isFalse();
        assertThat(gate.allows(message())).isFalse();
        assertThat(gate.allows(message())).isFalse();

        assertThat(asked).hasSize(3);
        assertThat(gate.refused()).isZero();
        assertThat(gate.summary()).endsWith("0 refused, 3 without an answer");
        assertThat(gate.lastProblem()).isEqualTo("answer without allowed");
    }

    private UsageEvent message() {
        return UsageEvents.builder(clock, UUID::randomUUID).org("org-00001").feature("CHAT_MESSAGE").user("user-1")
                .conversation("conv-1").tokens(300, 50).build();
    }

    private static CheckGate.Answer allowed() {
        return new CheckGate.Answer(200, "{\"orgId\":\"org-00001\",\"allowed\":true,\"code\":null,\"wouldBlock\":false}");
    }

    private static CheckGate.Answer refused(String code) {
        return new CheckGate.Answer(200, "{\"orgId\":\"org-00001\",\"allowed\":false,\"code\":\"" + code
                + "\",\"suggestedStatus\":429,\"wouldBlock\":false}");
    }

    private static final class TestClock extends Clock {
        private Instant now;

        TestClock(Instant now) {
            this.now = now;
        }

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }
    }
}
