package dev.metering.events.registry;

import java.io.ByteArrayOutputStream;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;

/**
 * A response body read up to a cap: a registry's answer is not trusted to be small. A body
 * announced or found to be longer is cut off (its subscription cancelled, so the connection is
 * closed) and marked {@code overflow}; its first {@code cap} bytes are kept for error messages.
 */
record CappedBody(byte[] bytes, boolean overflow) {

    static HttpResponse.BodyHandler<CappedBody> handler(int cap) {
        return info -> new Subscriber(cap, info.headers().firstValueAsLong("Content-Length").orElse(-1L) > cap);
    }

    private static final class Subscriber implements HttpResponse.BodySubscriber<CappedBody> {
        private final int cap;
        private final boolean declaredTooLarge;
        private final CompletableFuture<CappedBody> result = new CompletableFuture<>();
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private Flow.Subscription subscription;

        Subscriber(int cap, boolean declaredTooLarge) {
            this.cap = cap;
            this.declaredTooLarge = declaredTooLarge;
        }

        @Override
        public CompletionStage<CappedBody> getBody() {
            return result;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            if (declaredTooLarge) {
                s.cancel();
                result.complete(new CappedBody(new byte[0], true));
            } else {
                s.request(1);
            }
        }

        @Override
        public void onNext(List<ByteBuffer> buffers) {
            for (ByteBuffer buffer : buffers) {
                int n = buffer.remaining();
                if (out.size() + (long) n > cap) {
                    byte[] head = new byte[cap - out.size()];
                    buffer.get(head);
                    out.writeBytes(head);
                    subscription.cancel();
                    result.complete(new CappedBody(out.toByteArray(), true));
                    return;
                }
                byte[] chunk = new byte[n];
                buffer.get(chunk);
                out.writeBytes(chunk);
            }
            subscription.request(1);
        }

        @Override
        public void onError(Throwable throwable) {
            result.completeExceptionally(throwable);
        }

        @Override
        public void onComplete() {
            result.complete(new CappedBody(out.toByteArray(), false));
        }
    }
}
