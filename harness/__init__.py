"""unibridge-bench: packages in layers, each importing only those below it.

The layers and what each holds: docs/architecture.md, "Layers".
"""
