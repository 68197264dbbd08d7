package dev.metering.api.http;

import dev.metering.api.ApiException;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import java.io.IOException;

/**
 * The one bound on request bodies: every body is read through a stream that counts the bytes
 * actually read and refuses with 413 past the bound, whatever Content-Length or chunked
 * Transfer-Encoding claimed. Bulk imports ({@code .../import}) have their own larger bound.
 */
final class BodyLimit implements Filter {

    static long boundFor(String path) {
        return path != null && path.endsWith("/import") ? Routes.MAX_IMPORT_BODY_BYTES : Routes.MAX_BODY_BYTES;
    }

    static ApiException tooLarge(long bound) {
        return new ApiException(413, "PAYLOAD_TOO_LARGE", null, "the body is larger than " + bound
                + " bytes, the most this endpoint accepts" + (bound == Routes.MAX_IMPORT_BODY_BYTES ? "; split the file" : ""));
    }

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        HttpServletRequest http = (HttpServletRequest) request;
        chain.doFilter(new Bounded(http, boundFor(http.getRequestURI())), response);
    }

    private static final class Bounded extends HttpServletRequestWrapper {
        private final long bound;
        private ServletInputStream stream;

        Bounded(HttpServletRequest request, long bound) {
            super(request);
            this.bound = bound;
        }

        @Override
        public ServletInputStream getInputStream() throws IOException {
            if (stream == null) {
                stream = new CountingStream(super.getInputStream(), bound, getContentLengthLong());
            }
            return stream;
        }
    }

    /** Throws {@link ApiException} 413 (rendered by the routes' exception mapping) once past the bound. */
    private static final class CountingStream extends ServletInputStream {
        private final ServletInputStream in;
        private final long bound;
        private final long declared;
        private long read;

        CountingStream(ServletInputStream in, long bound, long declared) {
            this.in = in;
            this.bound = bound;
            this.declared = declared;
        }

        private void check(int n) {
            // a declared length past the bound is refused before a byte is read
            if (declared > bound) {
                throw tooLarge(bound);
            }
            if (n > 0) {
                read += n;
                if (read > bound) {
                    throw tooLarge(bound);
                }
            }
        }

        @Override
        public int read() throws IOException {
            check(0);
            int b = in.read();
            check(b < 0 ? 0 : 1);
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            check(0);
            // never read more than one byte past the bound, however large the caller's buffer
            int n = in.read(b, off, (int) Math.min(len, bound - read + 1));
            check(n);
            return n;
        }

        @Override
        public int available() throws IOException {
            return in.available();
        }

        @Override
        public boolean isFinished() {
            return in.isFinished();
        }

        @Override
        public boolean isReady() {
            return in.isReady();
        }

        @Override
        public void setReadListener(ReadListener listener) {
            in.setReadListener(listener);
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }
}
