package dev.metering.app.demo;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

class DemoAlertReceiverTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void shouldPrintEachAlertTypeOnOneLine() throws Exception {
        assertThat(DemoAlertReceiver.describe(JSON.readTree("""
                {"type":"limit.threshold_reached","timestamp":"2026-11-22T18:30:01Z","data":{"orgId":"org-00001",
                 "limitId":"daily-messages","feature":"CHAT_MESSAGE","meter":"quantity","window":"day","scope":"org",
                 "threshold":0.8,"used":160,"limit":200,"windowStart":"2026-11-22T00:00:00Z",
                 "resetsAt":"2026-11-23T00:00:00Z","planId":"TRIAL"}}""")))
                .isEqualTo("org-00001 daily-messages 80% (160/200)");
        assertThat(DemoAlertReceiver.describe(JSON.readTree("""
                {"type":"limit.threshold_reached","data":{"orgId":"acme","conversationId":"c-1",
                 "limitId":"per-conversation","threshold":1,"used":50,"limit":50}}""")))
                .isEqualTo("acme conversation c-1 per-conversation 100% (50/50)");
        assertThat(DemoAlertReceiver.describe(JSON.readTree("""
                {"type":"balance.low","data":{"orgId":"acme","balanceUsd":"4.5","thresholdUsd":"5"}}""")))
                .isEqualTo("acme balance $4.5 below $5");
    }
}
