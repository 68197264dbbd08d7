# The production image: metering-services.jar (the services and tools, without dev mode's broker,
# registry support and PostgreSQL) on a Java runtime cut to the modules it uses, on Alpine.
#   mvn -B -ntp -q install -DskipTests && docker build -t metering:dev .
# The command picks the service: streams | sink | api | migrate | plans apply FILE | prices apply FILE | loadgen.
FROM eclipse-temurin:17-jdk-alpine AS build
ARG TARGETARCH
RUN apk add --no-cache zip
COPY metering-app/target/metering-services.jar /build/metering.jar
# RocksDB's native library for this image only (Alpine, so musl; x86_64 or aarch64)
RUN cd /build \
 && case "$TARGETARCH" in arm64) keep=linux-aarch64-musl ;; *) keep=linux64-musl ;; esac \
 && for lib in linux64 linux64-musl linux-aarch64 linux-aarch64-musl; do \
      [ "$lib" = "$keep" ] || zip -q -d metering.jar "librocksdbjni-$lib.so"; done \
 && jlink --add-modules "$(jdeps --ignore-missing-deps -q --multi-release 17 --print-module-deps metering.jar),jdk.crypto.ec" \
      --strip-debug --no-man-pages --no-header-files --compress=2 --output /build/jre

FROM alpine:3.20
# libstdc++: RocksDB's native library; busybox wget serves the compose healthchecks
RUN apk add --no-cache libstdc++ \
 && adduser -S -D -u 10001 -h /var/lib/metering metering \
 && mkdir -p /var/lib/metering/streams && chown -R metering /var/lib/metering
# (/var/lib/metering/streams exists and belongs to metering, so a named volume mounted there does too)

COPY --from=build /build/jre /opt/java
COPY --from=build /build/metering.jar /app/metering.jar
COPY examples/ /app/examples/
ENV PATH=/opt/java/bin:$PATH

USER metering
WORKDIR /var/lib/metering
# Kafka Streams' local state (restored from its changelogs when missing)
ENV METERING_STREAMS_STATE_DIR=/var/lib/metering/streams
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=75", "-XX:+ExitOnOutOfMemoryError", "-jar", "/app/metering.jar"]
CMD ["--help"]
