"""Replicas of the example suites' datasets (suites/examples/): SIB-200 and MasakhaNER 2.0.

Called by ``scripts/make_replicas.py`` (which writes every replica); the layouts are the real
ones, the text is synthetic, and the ``evidence.yaml`` beside each replica (hand-written, kept
by that script) says where each fact was seen:

- ``hub/Davlan/sib200/``: the hub repository at ``2c66472`` ("Add all configs (#3)"): a
  ``README.md`` whose ``configs:`` give each ``<lang>_<Script>`` config the splits ``train``,
  ``validation``, ``test`` from ``data/<config>/{train,dev,test}.tsv``, and ``labels.txt`` beside
  them. The TSV files have the header ``index_id<TAB>category<TAB>text`` and quote a field that
  holds a ``"`` as pandas' ``to_csv`` with a tab separator does (the real files do: 41 of English's 701
  train rows).
- ``repositories/masakhane-ner/MasakhaNER2.0/data/<lang>/{train,dev,test}.txt``: the GitHub
  repository masakhane-io/masakhane-ner at ``ba5843c``, the files the hub dataset's loading
  script reads: ``token<SPACE>tag`` lines, a blank line after every sentence. Where the real
  file has lines whose token is empty (`` O``: only ``xho/train.txt``, lines 44520 and 74513, of
  the 60 files at ``ba5843c``), the replica's file has as many, at the same kind of place
  (:data:`MASAKHANER_EMPTY_TOKENS`).

Only the configs and languages the example suites read are written, every split of each (the
real sources have all three for every language).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import yaml

SIB200_HUB = "Davlan/sib200"
SIB200_LABELS = ("science/technology", "travel", "politics", "sports", "health", "entertainment",
                 "geography")
"""The seven topics in the order of every ``labels.txt`` (dadelani/sib-200@593cea8)."""
SIB200_CONFIGS = ("eng_Latn", "zho_Hans", "rus_Cyrl", "arb_Arab", "jpn_Jpan", "amh_Ethi",
                  "crh_Latn", "khm_Khmr", "kan_Knda", "lij_Latn", "pbt_Arab", "san_Deva",
                  "snd_Arab", "sin_Sinh", "som_Latn", "tam_Taml", "tat_Cyrl", "tgl_Latn")
"""The configs suites/examples/sib200.yaml reads: its five sources and thirteen targets."""
SIB200_FILES = {"train": "train.tsv", "validation": "dev.tsv", "test": "test.tsv"}
"""Hub split → the file of ``data/<config>/`` the card's ``configs:`` name for it."""

MASAKHANER_ROOT = "repositories/masakhane-ner"
MASAKHANER_LANGUAGES = ("bam", "bbj", "ewe", "fon", "hau", "ibo", "kin", "lug", "luo", "mos",
                        "nya", "pcm", "sna", "swa", "tsn", "twi", "wol", "xho", "yor", "zul")
"""The twenty folders of ``MasakhaNER2.0/data/`` at ba5843c (every one the example suite reads)."""
MASAKHANER_SENTENCES = (
    ("B-PER", "I-PER", "O", "B-LOC", "O"),
    ("O", "B-ORG", "I-ORG", "O", "B-DATE", "I-DATE"),
    ("B-LOC", "I-LOC", "O", "O"),
)
"""The tags of the replica's three sentences per file: all nine of MasakhaNER 2.0's labels."""
MASAKHANER_EMPTY_TOKENS = {("xho", "train"): ((0, 3), (2, 3))}
"""(lang, file) → (sentence, word) before which a line `` O`` (an empty token) stands.

Only ``xho/train.txt`` has such lines at ba5843c, two (evidence.yaml): line 44520 after ``, O``
and before ``uNdila B-PER``, line 74513 between ``kunye O`` and ``nokukopa O``; the replica's two
stand after an ``O`` before a ``B-LOC`` (sentence 0) and between two ``O`` (sentence 2)."""
ROWS = 3
NOTE = ("Replica of the layout and schema of `{id}` for the unibridge-bench tests "
        "(scripts/make_example_replicas.py). Every text in it is synthetic; see docs/data.md.\n")


def sib200_text(config: str, index_id: int, quoted: bool) -> str:
    """A synthetic sentence; ``quoted`` ones hold a ``"`` as a fifth of the real ones do."""
    words = " ".join(f"{config}{index_id}w{j}" for j in range(5))
    return f'"{words}," he said.' if quoted else f"{words}."


def sib200_tsv(config: str, split: str) -> str:
    """``index_id<TAB>category<TAB>text`` rows, quoted as pandas writes them.

    A row's topic depends on its id alone, as the real rows' do (every language has the same
    Flores sentence under the same topic).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="\t", lineterminator="\n")  # quoting as pandas writes it
    writer.writerow(["index_id", "category", "text"])
    for i in range(ROWS):
        index_id = 100 * list(SIB200_FILES).index(split) + i
        writer.writerow([index_id, SIB200_LABELS[index_id % len(SIB200_LABELS)],
                         sib200_text(config, index_id, quoted=i == 1)])
    return buffer.getvalue()


def sib200(root: Path) -> None:
    """``hub/Davlan/sib200``: README ``configs:``, TSV files and ``labels.txt`` per config."""
    folder = root / "hub" / SIB200_HUB
    configs = []
    for config in SIB200_CONFIGS:
        data = folder / "data" / config
        data.mkdir(parents=True, exist_ok=True)
        for split, name in SIB200_FILES.items():
            (data / name).write_text(sib200_tsv(config, split), encoding="utf-8")
        (data / "labels.txt").write_text("".join(f"{label}\n" for label in SIB200_LABELS),
                                         encoding="utf-8")
        configs.append({"config_name": config, "data_files": [
            {"split": split, "path": f"data/{config}/{name}"} for split, name in SIB200_FILES.items()]})
    card = yaml.safe_dump({"configs": configs}, sort_keys=False, allow_unicode=True)
    (folder / "README.md").write_text(f"---\n{card}---\n\n{NOTE.format(id=SIB200_HUB)}",
                                      encoding="utf-8")


def masakhaner_conll(lang: str, split: str) -> str:
    """Three sentences of ``token tag`` lines, each followed by a blank line (the real layout).

    Example: ``masakhaner_conll("xho", "train")`` holds two lines `` O`` where the real file has
    its two (:data:`MASAKHANER_EMPTY_TOKENS`); every other file has none.
    """
    empty = MASAKHANER_EMPTY_TOKENS.get((lang, split), ())
    blocks = []
    for i, tags in enumerate(MASAKHANER_SENTENCES):
        blocks.append("".join((" O\n" if (i, j) in empty else "") + f"{lang}{split}{i}w{j} {tag}\n"
                              for j, tag in enumerate(tags)))
    return "\n".join(blocks) + "\n"


def masakhaner2(root: Path) -> None:
    """``repositories/masakhane-ner/MasakhaNER2.0/data/<lang>/{train,dev,test}.txt``."""
    for lang in MASAKHANER_LANGUAGES:
        folder = root / MASAKHANER_ROOT / "MasakhaNER2.0" / "data" / lang
        folder.mkdir(parents=True, exist_ok=True)
        for split in ("train", "dev", "test"):
            (folder / f"{split}.txt").write_text(masakhaner_conll(lang, split), encoding="utf-8")


BUILDS = (sib200, masakhaner2)
"""What scripts/make_replicas.py calls, each with the output folder."""
PARTS = ("repositories",)
"""Top folders of the output these builds own besides ``hub`` (rewritten by make_replicas.py)."""
