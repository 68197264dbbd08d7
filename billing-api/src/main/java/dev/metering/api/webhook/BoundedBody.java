package dev.metering.api.webhook;

import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;

/**
 * A response body subscriber that keeps the first {@code max} bytes (for the delivery log) and
 * then cancels: a receiver cannot make the sender read an unbounded body.
 */
final class BoundedBody implements HttpResponse.BodySubscriber<String> {

    private final int max;
    private final byte[] kept;
    private int size;
    private final CompletableFuture<String> result = new CompletableFuture<>();
    private Flow.Subscription subscription;

    BoundedBody(int max) {
        this.max = max;
        this.kept = new byte[max];
    }

    static HttpResponse.BodyHandler<String> handler(int max) {
        return info -> new BoundedBody(max);
    }

    @Override
    public CompletionStage<String> getBody() {
        return result;
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
        subscription = s;
        s.request(1);
    }

    @Override
    public void onNext(List<ByteBuffer> items) {
        for (ByteBuffer b : items) {
            int n = Math.min(b.remaining(), max - size);
            b.get(kept, size, n);
            size += n;
        }
        if (size >= max) {
            subscription.cancel();
            complete();
        } else {
            subscription.request(1);
        }
    }

    @Override
    public void onError(Throwable t) {
        result.completeExceptionally(t);
    }

    @Override
    public void onComplete() {
        complete();
    }

    private void complete() {
        result.complete(new String(kept, 0, size, StandardCharsets.UTF_8));
    }
}
