"""Delivery: deployments, the four DORA keys and what CI and AI cost.

Which commit runs in which environment and what waits to be promoted
(:mod:`.deployments`), deployment frequency, lead time for changes, change
failure rate and time to restore with DORA's performance bands
(:mod:`.dora`), and CI minutes, AI tokens and incidents priced
(:mod:`.cost`).
"""
