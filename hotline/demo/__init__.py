"""`hotline demo`: a running center on one machine, with simulated callers and agents."""
