package dev.metering.api.usage;

/** Which aggregate table a segment reads: hourly or daily windows (UTC). */
public enum Grain { HOURLY, DAILY }
