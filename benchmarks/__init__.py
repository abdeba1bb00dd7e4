"""Reproducible performance measurements of the Urban Model Server (`make bench`).

Everything measured is started here on loopback, driven with bounded loops and stopped again;
results go to benchmarks/results/<timestamp>.json and docs/performance.md.
"""
