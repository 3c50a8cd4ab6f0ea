"""Write the YAML-task fixtures (``fixtures/yaml_tasks/``) from the WikiANN fixture's sentences.

Usage::

    python3 scripts/make_yaml_task_fixtures.py      # rewrites fixtures/yaml_tasks/{token,sentence}/<lang>/

Two tasks in the layouts of the datasets the field uses now, on the words of
``fixtures/wikiann`` (eng, rus and the target amh, the languages whose monolingual and parallel
fixtures serve UniBridge):

* ``token/``: MasakhaNER's files, ``<lang>/{train,dev,test}.txt`` with ``token tag`` lines
  (a space between them) and a blank line between sentences; the tags are the WikiANN fixture's
  (synthetic);
* ``sentence/``: SIB-200's files, ``<lang>_<Script>/{train,dev,test}.tsv`` with the header
  ``index_id<TAB>category<TAB>text``; ``category`` is synthetic: ``short`` (up to 4 words),
  ``medium`` (5–8) or ``long`` (more), so that it can be learnt from the text at all.

The task files beside them (``task.yaml``) are written by hand. Deterministic: the same input
files give the same bytes.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "fixtures"
SPLITS = {"train": "train", "validation": "dev", "test": "test"}
SCRIPTS = {"eng": "eng_Latn", "rus": "rus_Cyrl", "amh": "amh_Ethi"}


def sentences(lang: str, split: str) -> list[list[tuple[str, str]]]:
    """The (token, tag) sentences of the WikiANN fixture's ``lang``/``split``."""
    blocks = (ROOT / "wikiann" / lang / f"{split}.tsv").read_text(encoding="utf-8").split("\n\n")
    return [[tuple(line.split("\t")) for line in block.splitlines()] for block in blocks if block.strip()]


def category(words: int) -> str:
    """The synthetic topic of a text of ``words`` words."""
    return "short" if words <= 4 else "medium" if words <= 8 else "long"


def write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` (UTF-8), making its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def main() -> None:
    """Write both fixtures for every language and split."""
    for lang, folder in SCRIPTS.items():
        for split, name in SPLITS.items():
            found = sentences(lang, split)
            conll = "\n\n".join("\n".join(f"{token} {tag}" for token, tag in s) for s in found)
            write(ROOT / "yaml_tasks" / "token" / lang / f"{name}.txt", conll + "\n")
            rows = [f"{i}\t{category(len(s))}\t{' '.join(token for token, _ in s)}"
                    for i, s in enumerate(found)]
            write(ROOT / "yaml_tasks" / "sentence" / folder / f"{name}.tsv",
                  "\n".join(["index_id\tcategory\ttext", *rows]) + "\n")


if __name__ == "__main__":
    main()
