# One image for every service of the pipeline: build the jar first, then the image.
#   mvn -B -ntp -q install -DskipTests && docker build -t metering:dev .
# The command picks the service: streams | sink | api | migrate | plans apply FILE | prices apply FILE | loadgen.
FROM eclipse-temurin:17-jre

RUN apt-get update \
 && apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/metering --create-home metering \
 && mkdir -p /var/lib/metering/streams && chown -R metering:metering /var/lib/metering
# (/var/lib/metering/streams exists and belongs to metering, so a named volume mounted there does too)

COPY --chown=root:root metering-app/target/metering.jar /app/metering.jar
COPY --chown=root:root examples/ /app/examples/

USER metering
WORKDIR /var/lib/metering
# Kafka Streams' local state (restored from its changelogs when missing)
ENV METERING_STREAMS_STATE_DIR=/var/lib/metering/streams
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=75", "-XX:+ExitOnOutOfMemoryError", "-jar", "/app/metering.jar"]
CMD ["--help"]
