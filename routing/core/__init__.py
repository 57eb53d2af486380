"""The routing core: pure decisions over plain dataclasses with an injected clock (no AMI,
no database, no HTTP, no I/O). routing/README.md lists the files."""
