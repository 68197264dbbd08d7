package dev.metering.api.usage;

/**
 * Which aggregate table a segment reads: hourly or daily windows (UTC), or the lifetime totals
 * (one row per feature, whatever the segment's range).
 */
public enum Grain { HOURLY, DAILY, LIFETIME }
