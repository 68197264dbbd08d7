package dev.metering.streams;

/**
 * Where an event came from, kept beside it through the topology so that a record refused at any
 * stage reaches the dead-letter topic with its ORIGINAL key and value bytes and its original
 * coordinates (docs/contract.md, Topics), never a re-serialization.
 *
 * @param key       the original key bytes (may be null)
 * @param value     the original value bytes (may be null)
 * @param topic     the topic it was read from
 * @param partition the partition it was read from
 * @param offset    the offset it was read from
 * @param timestamp the original record timestamp, epoch millis
 */
public record Origin(byte[] key, byte[] value, String topic, int partition, long offset, long timestamp) {
}
