"""Operations: liveness, readiness and Prometheus metrics for load balancers, systemd and
monitoring (ops/README.md)."""
