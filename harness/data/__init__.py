"""Layer 1: where data comes from (local files, hub datasets, pinned releases) and one module per dataset."""
