# The production image: metering-services.jar (the services and tools, without dev mode's broker,
# registry support and PostgreSQL) on a Java runtime cut to the modules it uses, on Alpine's libraries
# without its package manager.
#   mvn -B -ntp -q install -DskipTests && docker build -t metering:dev .
# The command picks the service: streams | sink | api | migrate | plans apply FILE | prices apply FILE | loadgen.
FROM eclipse-temurin:17-jdk-alpine AS build
ARG TARGETARCH
# zip: drops the other platform's native libraries; binutils: strip(1) for those kept and build-runtime.sh
RUN apk add --no-cache zip binutils
COPY metering-app/target/metering-services.jar /build/metering.jar
COPY metering-app/src/image/build-runtime.sh /build/
# the native libraries of this image's platform only (Alpine, so RocksDB's musl build); the runtime's
# modules are listed in build-runtime.sh, which ProductionRuntimeIT runs the services on
RUN cd /build \
 && if [ "$TARGETARCH" = arm64 ]; then \
      zip -q -d metering.jar librocksdbjni-linux64.so librocksdbjni-linux64-musl.so librocksdbjni-linux-aarch64.so \
        'linux/amd64/*' 'net/jpountz/util/linux/amd64/*' 'org/xerial/snappy/native/Linux/x86_64/*'; \
    else \
      zip -q -d metering.jar librocksdbjni-linux64.so librocksdbjni-linux-aarch64.so librocksdbjni-linux-aarch64-musl.so \
        'linux/aarch64/*' 'net/jpountz/util/linux/aarch64/*' 'org/xerial/snappy/native/Linux/aarch64/*'; \
    fi \
 && mkdir natives && cd natives && unzip -q ../metering.jar '*.so' \
 && find . -name '*.so' -exec strip --strip-unneeded {} + && zip -q -r ../metering.jar . && cd .. && rm -r natives \
 && sh build-runtime.sh /build/jre
# (strip keeps the dynamic symbols the JVM binds native methods with; the symbol tables it drops serve
# debuggers only)

FROM alpine:3.20 AS os
# libstdc++: RocksDB's native library; gcompat: snappy-java's and zstd-jni's natives are glibc builds,
# loaded when a producer sends snappy- or zstd-compressed batches; zlib: the runtime's libzip (named, so
# removing the package manager that also needs it keeps it); busybox wget serves the healthchecks.
# The package manager and OpenSSL go (Java's TLS is its own); the package database stays accurate.
RUN apk add --no-cache libstdc++ gcompat zlib \
 && apk del apk-tools $(apk info -e ssl_client libssl3 libcrypto3) \
 && adduser -S -D -u 10001 -h /var/lib/metering metering \
 && mkdir -p /var/lib/metering/streams && chown -R metering /var/lib/metering
# (/var/lib/metering/streams exists and belongs to metering, so a named volume mounted there does too)

# one layer without the files the base image's layer would keep after they were deleted
FROM scratch
COPY --from=os / /
COPY --from=build /build/jre /opt/java
COPY --from=build /build/metering.jar /app/metering.jar
COPY examples/ /app/examples/
ENV PATH=/opt/java/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

USER metering
WORKDIR /var/lib/metering
# Kafka Streams' local state (restored from its changelogs when missing)
ENV METERING_STREAMS_STATE_DIR=/var/lib/metering/streams
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=75", "-XX:+ExitOnOutOfMemoryError", "-jar", "/app/metering.jar"]
CMD ["--help"]
