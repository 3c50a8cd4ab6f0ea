"""Layer 8, for benchmarks and tests only: FLOPs of a training step and stage 3/4 steps on random encoders."""
