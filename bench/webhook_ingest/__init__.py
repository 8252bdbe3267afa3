"""The webhook ingest benchmark (``run``), imported by bench/faults and bench/soak."""
