"""The paper's Tables 1–23 as data: which rows, which columns, which metric, which aggregate.

Example (adding a table is one declaration in :data:`TABLE_SPECS`)::

    languages(24, "ner", WIKIANN, rows("xlmr", "unibridge", "focus"), title="…")

A row is a method on a backbone family; the records of any backbone of that family fill it
(the smoke suite's ``tiny-xlmr`` fills Table 1's XLM-R rows). Row labels are the paper's, so each
row sits beside the paper's own numbers (:mod:`harness.report.paper`). Tables 6–11 list
:class:`Setting` rows: paths into the effective hyperparameters the run recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: The paper's name of each backbone family.
ARCH_NAMES = {"xlmr": "XLM-R", "bert": "mBERT", "gpt2": "mGPT", "mbart": "mBART"}
#: Two-letter codes of Tables 16–17 and 20–22 -> canonical code (PAPER.md's transcription notes;
#: ISO 639-1 ``ps`` is the macrolanguage ``pus``, the paper's column is Southern Pashto ``pbt``).
PAPER_COLUMN_CODES = {"am": "amh", "km": "khm", "kn": "kan", "ps": "pbt", "sa": "san", "sd": "snd",
                      "si": "sin", "so": "som"}
WIKIANN = ("amh", "ang", "cdo", "crh", "eml", "frr", "khm", "kan", "lij", "pbt", "san", "snd", "sin", "som")
UD = ("amh", "lij", "olo", "san", "snd", "sin", "tam", "tgl", "tat")
AMERICASNLI = ("aym", "bzd", "cni", "grn", "hch", "nah", "oto", "quy", "shp", "tar")
#: Row label of each method on backbone family ``{arch}`` (the paper's wording).
LABELS = {
    "zero_shot": "{arch}", "mad_x": "MAD-X ({arch})", "unibridge": "UniBridge ({arch})",
    "extend": "EXTEND ({arch})", "focus": "FOCUS ({arch})", "unibridge_lang2vec": "lang2vec ({arch})",
    "unibridge_no_kl": "- KL Divergence", "unibridge_no_embedding_init": "- Embedding initialization",
    "unibridge_no_vocab_search": "- Vocab size searching",
    "unibridge_no_multi_source": "- Multi-source transfer",
}
ABLATIONS = ("unibridge_no_kl", "unibridge_no_embedding_init", "unibridge_no_vocab_search",
             "unibridge_no_multi_source")


@dataclass(frozen=True)
class Row:
    """A method on a backbone family (None: any family, e.g. Table 20's vocabulary sizes)."""

    label: str
    method: str
    arch: str | None


@dataclass(frozen=True)
class Setting:
    """A row of Tables 6–11: a path into a method's effective hyperparameters.

    ``cap``: a sibling path (``max_steps``) that, when set, overrides the setting in effect.
    """

    label: str
    method: str
    path: str
    template: str = "{}"
    cap: str | None = None


@dataclass(frozen=True)
class TableSpec:
    """One of the paper's tables.

    ``columns`` are languages (canonical codes, paper order) or, for Table 5, backbone families;
    ``value`` is the job's metric or the vocabulary size its search found; ``aggregate`` is the
    row average, mean ± std over ``languages`` per backbone (Table 5), or none. ``marks`` is what
    the paper marks per column (Average included) and backbone family: the best in bold and the
    second underlined, the best alone (Tables 14–15, 21–22), or nothing.
    """

    number: int
    title: str
    task: str | None
    rows: tuple[Row, ...] | tuple[Setting, ...]
    columns: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    value: Literal["metric", "vocab_size"] = "metric"
    aggregate: Literal["average", "mean_std", "none"] = "average"
    marks: Literal["best_second", "best", "none"] = "best_second"

    @property
    def name(self) -> str:
        """File stem of the rendered table, e.g. ``table01``."""
        return f"table{self.number:02d}"

    @property
    def description(self) -> str:
        """One line for ``unibridge-bench list``: ``Table N: title``."""
        return f"Table {self.number}: {self.title}"

    @property
    def is_hyperparameters(self) -> bool:
        """True for Tables 6–11."""
        return bool(self.rows) and isinstance(self.rows[0], Setting)


def rows(arch: str, *methods: str) -> tuple[Row, ...]:
    """One row per method on ``arch``, labelled as the paper labels it."""
    return tuple(Row(LABELS[m].format(arch=ARCH_NAMES[arch]), m, arch) for m in methods)


def ablation_rows(arch: str) -> tuple[Row, ...]:
    """UniBridge and its four ablations on ``arch`` (Tables 16–17)."""
    return rows(arch, "unibridge") + tuple(Row(LABELS[m], m, arch) for m in ABLATIONS)


def languages(number: int, task: str, langs: tuple[str, ...], table_rows: tuple[Row, ...], title: str,
              aggregate: Literal["average", "none"] = "average",
              marks: Literal["best_second", "best"] = "best_second") -> TableSpec:
    """A per-language table: one column per language of ``langs``."""
    return TableSpec(number, title, task, table_rows, columns=langs, languages=langs, aggregate=aggregate,
                     marks=marks)


def settings(number: int, title: str, method: str, *entries: tuple[str, ...]) -> TableSpec:
    """A hyperparameter table: ``(label, path[, template[, cap]])`` entries of one method."""
    return TableSpec(number, title, None, tuple(Setting(e[0], method, *e[1:]) for e in entries))


_BASELINES = ("zero_shot", "mad_x", "unibridge")
TABLE_SPECS: tuple[TableSpec, ...] = (
    languages(1, "ner", WIKIANN, rows("xlmr", *_BASELINES), "WikiANN F1, XLM-R"),
    languages(2, "ner", WIKIANN, rows("bert", *_BASELINES), "WikiANN F1, mBERT"),
    languages(3, "pos", UD, rows("xlmr", *_BASELINES), "UD POS accuracy, XLM-R"),
    languages(4, "pos", UD, rows("bert", *_BASELINES), "UD POS accuracy, mBERT"),
    TableSpec(5, "Ablations: mean ± std F1 over the 14 WikiANN languages", "ner",
              (Row("UniBridge", "unibridge", None), *(Row(LABELS[m], m, None) for m in ABLATIONS)),
              columns=("xlmr", "bert"), languages=WIKIANN, aggregate="mean_std"),
    settings(6, "Vocabulary-size search (Algorithm 1)", "unibridge",
             ("Initial vocab size v_i", "vocab.start"), ("Maximum vocab size v_m", "vocab.max_size"),
             ("Increased step of vocab size δ_v", "vocab.step"),
             ("Threshold for stopping the algorithm ϵ_v", "vocab.threshold")),
    settings(7, "Embedding initialisation", "unibridge",
             ("Static embedding model", "embeddings.fasttext_model", "FastText ({})"),
             ("Static embedding dimension", "embeddings.fasttext_dim"),
             ("Number of epoch of training", "embeddings.fasttext_epochs")),
    settings(8, "Language adaptation", "unibridge",
             ("Invertible adapter reduced factor", "adaptation.inv_reduction_factor"),
             ("Language adapter reduced factor", "adaptation.reduction_factor"),
             ("KL divergence weight β", "adaptation.beta"),
             ("Masked probability", "adaptation.mask_probability"),
             ("Number of epochs trained", "adaptation.epochs", "{}", "adaptation.max_steps"),
             ("Batch size", "adaptation.batch_size"), ("Learning rate", "adaptation.learning_rate")),
    settings(9, "Task adaptation", "unibridge",
             ("Task adapter reduced factor", "task_adapter.reduction_factor"),
             ("Number of epochs trained", "task_adapter.epochs", "{}", "task_adapter.max_steps"),
             ("Batch size", "task_adapter.batch_size"), ("Learning rate", "task_adapter.learning_rate")),
    settings(10, "Zero-shot fine-tuning", "zero_shot",
             ("Number of epochs trained", "training.epochs", "{}", "training.max_steps"),
             ("Batch size", "training.batch_size"), ("Learning rate", "training.learning_rate")),
    settings(11, "Multi-source inference", "unibridge", ("Number of parallel sentences K", "inference.k")),
    languages(12, "nli", AMERICASNLI, rows("xlmr", *_BASELINES), "AmericasNLI accuracy, XLM-R"),
    languages(13, "nli", AMERICASNLI, rows("bert", *_BASELINES), "AmericasNLI accuracy, mBERT"),
    # Tables 14-15 and 21-22 compare two rows: the paper marks the best alone (14-15's captions)
    languages(14, "ner", WIKIANN, rows("xlmr", "unibridge_lang2vec", "unibridge"), "lang2vec weights, XLM-R",
              marks="best"),
    languages(15, "ner", WIKIANN, rows("bert", "unibridge_lang2vec", "unibridge"), "lang2vec weights, mBERT",
              marks="best"),
    languages(16, "ner", WIKIANN, ablation_rows("xlmr"), "Ablations per language, XLM-R", aggregate="none"),
    languages(17, "ner", WIKIANN, ablation_rows("bert"), "Ablations per language, mBERT", aggregate="none"),
    languages(18, "ner", WIKIANN, (*rows("mbart", "zero_shot", "mad_x"),
                                   Row("UniBridge without KL-Divergence (mBART)", "unibridge_no_kl", "mbart"),
                                   *rows("mbart", "unibridge")), "mBART: the KL term"),
    languages(19, "ner", WIKIANN, rows("bert", "zero_shot", "extend", "unibridge"), "EXTEND, mBERT"),
    TableSpec(20, "Vocabulary sizes found by Algorithm 1", "ner", (Row("UniBridge", "unibridge", None),),
              columns=WIKIANN, languages=WIKIANN, value="vocab_size", aggregate="none", marks="none"),
    languages(21, "ner", WIKIANN, rows("xlmr", "focus", "unibridge"), "FOCUS initialisation, XLM-R",
              aggregate="none", marks="best"),
    languages(22, "ner", WIKIANN, rows("bert", "focus", "unibridge"), "FOCUS initialisation, mBERT",
              aggregate="none", marks="best"),
    languages(23, "ner", WIKIANN, rows("gpt2", *_BASELINES) + rows("mbart", *_BASELINES), "mGPT and mBART"),
)


def table_spec(number: int) -> TableSpec:
    """The declaration of Table ``number``."""
    return next(spec for spec in TABLE_SPECS if spec.number == number)
