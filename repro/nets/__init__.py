"""Architectures only: one file per family. Training rules live in repro.methods, metrics in repro.metrics."""
