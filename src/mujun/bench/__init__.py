"""Benchmarks (`mujun bench ...`) and the synthetic data they use; every dataset here is SYNTHETIC."""
