#!/bin/sh
# The production image's Java runtime: the JDK's jlink cut to the modules metering-services.jar
# needs, written to DIR. The Dockerfile builds the image's runtime with it and ProductionRuntimeIT
# runs the services on what it builds, so a missing module fails a test, not a deployment.
#   sh metering-app/src/image/build-runtime.sh DIR      (jlink from $JAVA_HOME/bin, else from PATH)
set -eu
out=${1:?usage: build-runtime.sh DIR}

# java.sql with java.logging, java.transaction.xa, java.xml: JDBC, jOOQ, Flyway, Hikari
# java.management: the Kafka clients' and Hikari's MBeans
# java.naming, java.security.jgss, java.security.sasl: SASL and Kerberos for Kafka (METERING_KAFKA_*),
#   PostgreSQL's GSS encryption, JNDI types of pgjdbc's and Hikari's data sources
# java.net.http: the schema registry client, webhooks, the import tools
# jdk.httpserver: the /metrics endpoints of streams and sink
# jdk.crypto.ec: TLS with elliptic-curve keys (Kafka, PostgreSQL, registry, webhooks)
# jdk.unsupported: sun.misc.Unsafe (Kafka, lz4, snappy, Avro)
# Left out although jdeps lists them: java.desktop (java.beans, only on optional paths of Jackson,
# jOOQ, SnakeYAML and Jetty), java.compiler (jOOQ's runtime compiler), java.instrument (Jetty's
# web-app class loader), jdk.management (bench, which needs the full jar).
modules=java.base,java.logging,java.management,java.naming,java.net.http,java.security.jgss,java.security.sasl
modules=$modules,java.sql,java.transaction.xa,java.xml,jdk.crypto.ec,jdk.httpserver,jdk.unsupported

jlink=jlink
if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/jlink" ]; then jlink=$JAVA_HOME/bin/jlink; fi
rm -rf "$out"
# left out of the files: the CDS class list (only -Xshare:dump reads it), jrt-fs.jar (lets another JDK read
# this runtime's modules), the binfmt launcher jexec and libjsig (signal chaining, only when preloaded)
"$jlink" --add-modules "$modules" --strip-debug --no-man-pages --no-header-files --compress=2 \
  --exclude-files='**/classlist,**/jrt-fs.jar,**/jexec,**/libjsig.so' --output "$out"

# native symbol tables (function names in a JVM crash report only) are most of libjvm.so's size
# beyond its code; jlink's --strip-native-debug-symbols removes .debug sections, which the JDK's
# libraries do not carry, so strip(1) does it where binutils is installed
if command -v strip > /dev/null 2>&1; then
  find "$out" -name '*.so' -exec strip --strip-unneeded {} +
fi
