"""Tasks declared by data, not code: token, sentence and sentence-pair classification from YAML.

Example (a suite's task)::

    tasks:
      sib200:
        definition: tasks/sib200.yaml      # kind, labels, metric, columns, splits, languages
        targets: [amh]
        data: {hub: Davlan/sib200, revision: <commit>}

:mod:`~harness.tasks.from_yaml.schema` validates a definition when the suite loads,
:mod:`~harness.tasks.from_yaml.kinds` holds the registry of kinds (:data:`TASK_KINDS`, which a plugin
extends), :mod:`~harness.tasks.from_yaml.data` loads and checks the data (local files in
:mod:`~harness.tasks.from_yaml.formats`, or the hub) and :func:`harness.tasks.specs.get_task` turns a
definition into a :class:`~harness.tasks.specs.TaskSpec` like the paper tasks'. The schema, a worked
example and the choices made are in docs/yaml-tasks.md.
"""


import importlib

#: Name -> the submodule that defines it. Imported on first use (PEP 562), so that importing
#: :mod:`~harness.tasks.from_yaml.kinds` (``list``) does not import the schema and pydantic.
_EXPORTS = {"TASK_KINDS": "kinds", "TaskKind": "kinds", "DefinitionError": "schema",
            "TaskDefinition": "schema", "load_definition": "schema"}

__all__ = ["TASK_KINDS", "DefinitionError", "TaskDefinition", "TaskKind", "load_definition"]


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
