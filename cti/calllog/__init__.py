"""The call log: one row per call, written from the tracker's domain events."""
