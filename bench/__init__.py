"""Benchmarks; a package so that bench/faults and bench/soak import bench/webhook_ingest by name."""
