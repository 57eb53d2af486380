"""Real servers for tests and the demo (Asterisk sandbox, Redis, PostgreSQL), started on
loopback with their data under a cache or var/ directory. Never used in production."""
