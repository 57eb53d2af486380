"""Demo data for a Chinese city utility: pure generators (customers, staff, content)
and a thin writer (`devtools.seed.writer.seed_database`)."""
