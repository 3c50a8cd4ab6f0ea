"""Architecture families the harness supports, and the ``model_type`` of each in a checkpoint.

Example::

    MODEL_TYPES["xlmr"]          # "xlm-roberta": what config.json of an XLM-R checkpoint says

Kept free of heavy imports: suite files are validated against :data:`Arch` before any model
library loads.
"""

from __future__ import annotations

from typing import Literal, get_args

Arch = Literal["xlmr", "bert", "gpt2", "mbart"]
ARCHS: tuple[str, ...] = get_args(Arch)
#: ``model_type`` in a checkpoint's config.json for each family (mGPT is a GPT-2 model).
MODEL_TYPES: dict[str, str] = {"xlmr": "xlm-roberta", "bert": "bert", "gpt2": "gpt2", "mbart": "mbart"}
