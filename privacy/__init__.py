"""Privacy (PIPL): masking by role, customer data export and erasure, encryption at
rest, and the guard against harvesting customer files."""
