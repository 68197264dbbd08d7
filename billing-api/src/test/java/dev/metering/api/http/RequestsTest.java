package dev.metering.api.http;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RequestsTest {

    @Test
    void shouldRefuseUrisThatAreNotPercentEncodedUtf8() {
        assertThat(Requests.decodeProblem("/api/v1/orgs/%FF%FE/balance", false)).isEqualTo("is not valid UTF-8 once percent-decoded");
        assertThat(Requests.decodeProblem("%C3%28", true)).isEqualTo("is not valid UTF-8 once percent-decoded");
        assertThat(Requests.decodeProblem("a%00b", true)).startsWith("must not contain the NUL character");
        assertThat(Requests.decodeProblem("50%", true)).startsWith("malformed percent-encoding");
        assertThat(Requests.decodeProblem("%zz", true)).startsWith("malformed percent-encoding");
    }

    @Test
    void shouldAcceptValidUtf8AndPlainText() {
        assertThat(Requests.decodeProblem("/api/v1/orgs/%E7%BB%84%E7%BB%87-%C3%A9t%C3%A9-%F0%9F%9A%80/balance", false)).isNull();
        assertThat(Requests.decodeProblem("/api/v1/orgs/acme/balance", false)).isNull();
        assertThat(Requests.decodeProblem("a+b%2Bc", true)).isNull();
        assertThat(Requests.decodeProblem(null, true)).isNull();
    }
}
