"""Reproducible speed figures against peers and the raw-driver floor: `python -m benchmarks`."""
