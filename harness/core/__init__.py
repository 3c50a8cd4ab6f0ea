"""Layer 0, the engine.

Stages, keys, the content-addressed cache and its manifests, the registry, the executor interface.
"""
