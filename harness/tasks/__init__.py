"""Layer 2.

The task registry and encodings, metrics, predictions, what a stage reads, tasks declared in YAML.
"""
