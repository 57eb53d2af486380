"""`hotline-dev demo`: a running center on one machine, with simulated callers and agents."""
