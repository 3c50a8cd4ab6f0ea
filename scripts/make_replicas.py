"""Write small replicas of the paper suites' datasets with their real layout and schema.

Usage::

    python3 scripts/make_replicas.py                  # rewrites fixtures/replicas/
    python3 scripts/make_replicas.py --out /tmp/rep

What a replica is: the published *form* of a dataset (file names and folders, hub configs and
splits, column names and types, ``ClassLabel`` names in their order, header lines, code
conventions) holding a few rows of **synthetic text** per language: enough for the loaders and
``validate`` to run against the real schema without a network. Nothing in them is real data.
Where each layout comes from, and what could not be verified, is in docs/data.md ("Replicas").

Output (under ``--out``):

- ``hub/<owner>/<name>/``: copies of hub dataset repositories, as ``hf download --local-dir``
  would leave them (a ``README.md`` whose YAML holds ``dataset_info`` and ``configs``, and the
  data files the configs name: parquet, JSON lines for FLORES+), for ``UNIBRIDGE_HUB_MIRROR``
  (harness.data.hub):
  ``unimelb-nlp/wikiann``, ``facebook/xnli``, ``nala-cub/americas_nli``,
  ``openlanguagedata/flores_plus``, ``wikimedia/wikipedia``. Only the configs the paper
  suites read are written.
- ``releases/ud/ud-treebanks-v2.13.tgz``: the UD release tarball's layout
  (``ud-treebanks-v2.13/UD_<Language>-<TB>/<tb>-ud-<split>.conllu``) for the suites' treebanks.
- ``releases/ud_repositories/UD_<Language>-<TB>/<file>``: treebank files a suite reads from a
  repository's pinned commit (Sindhi, in no release).
- ``releases/americasnlp2021/data/<pair>/train.<code>``: the AmericasNLP 2021 files.
- ``releases/americasnli/{dev,test}/<code>.tsv``: the AmericasNLI repository's files.
- ``opus/<corpus>.<l1>-<l2>.<l1|l2>``: OPUS Moses files, one pair of files for each file
  ``opus/evidence.yaml`` lists (from the OPUS index), each with at most as many lines as the real
  file has pairs. No paper suite reads OPUS now (they read the authors' files below); the replica
  serves the OPUS option and the suites' public alternative blocks in the tests.
- ``unibridge_alignment/xlm/alignment/...``: **real files**, not synthetic: the UniBridge authors'
  parallel sentences of every pair the suites read, byte for byte (MIT licence), checked against
  the SHA-256 that ``harness/data/releases.py`` pins; copied from the shipped replica or, with
  ``--unibridge-repo DIR`` (a clone of TokisakiKurumi2001/UniBridge), from the commit itself.
  Its ``evidence.yaml`` (written here) says where each file is in the real repository.
- the example suites' datasets (SIB-200 on the hub, MasakhaNER 2.0's repository):
  ``scripts/make_example_replicas.py``.

Beside every other replica, a hand-written ``evidence.yaml`` lists what its real source holds and
where that was seen; this script keeps those files and ``tests/test_replica_evidence.py`` checks
every replica file against them. No public source fills a per-pair folder: none is written.

Deterministic: the same harness and library versions write the same bytes (parquet files embed
the pyarrow version that wrote them; the tarball has fixed times and owners).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import itertools
import shutil
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a plain script from a checkout

import datasets  # noqa: E402
import yaml  # noqa: E402
from make_example_replicas import BUILDS as EXAMPLE_BUILDS  # noqa: E402
from make_example_replicas import PARTS as EXAMPLE_PARTS  # noqa: E402

from harness.data import authors_parallel, monolingual, nli, parallel, releases, ud  # noqa: E402
from harness.data._local import WIKIPEDIA_CODES  # noqa: E402
from harness.data.examples import NER_LABELS, NLI_LABELS, UPOS_LABELS  # noqa: E402
from harness.suite.schema import load_suite  # noqa: E402

SUITES = [ROOT / "suites" / f"{name}.yaml" for name in ("wikiann", "ud", "americasnli")]
ROWS = 3
"""Rows (sentences, pairs, articles) per language and split."""
PAIRS = 12
"""Lines per OPUS file (at most the real file's pairs): more than the harmony methods' k = 10."""
UD_ROOT = "ud-treebanks-v2.13"
WIKIPEDIA_DUMP = monolingual.WIKIPEDIA_DUMP
WIKIPEDIA_SHARDS = {"en": 41, "ja": 15, "ru": 21, "zh": 6, "ar": 7}
"""Shards of the big 20231101 configs (the hub commits adding them); the replica writes the first."""
EVIDENCE = "evidence.yaml"
"""Beside each replica: what its real source holds and where that was seen."""
NOTE = ("Replica of the layout and schema of `{id}` for the unibridge-bench tests "
        "(scripts/make_replicas.py). Every text in it is synthetic; see docs/data.md.\n")


def words(lang: str, i: int, n: int = 5) -> list[str]:
    """``n`` synthetic words for row ``i`` of ``lang`` (distinct per language and row)."""
    return [f"{lang}{i}w{j}" for j in range(n)]


def sentence(lang: str, i: int, n: int = 5) -> str:
    """The words of :func:`words` as a sentence."""
    return " ".join(words(lang, i, n)) + "."


# -- hub repositories ---------------------------------------------------------------------------


class CardDumper(yaml.SafeDumper):
    """YAML as dataset cards write it: every block spelled out, no anchors."""

    def ignore_aliases(self, data) -> bool:
        """Never alias: repeated blocks are written out."""
        return True


def class_label_yaml(names) -> dict:
    """A ``class_label`` as dataset cards write it (``'0': name``)."""
    return {"class_label": {"names": {str(i): name for i, name in enumerate(names)}}}


def write_hub_repo(root: Path, hub: str, configs: list[dict], extra: str = "") -> None:
    """``README.md`` (``dataset_info`` + ``configs``) and the data files of ``configs``.

    Each config: ``name``, ``features`` (datasets.Features), ``features_yaml`` (its card form),
    ``splits`` {split: (relative file path, glob in the card, rows as a dict of columns)}; a
    path ending in ``.jsonl`` is written as JSON lines, any other as parquet.
    """
    folder = root / "hub" / hub
    infos, cards = [], []
    for config in configs:
        splits = []
        files = []
        for split, (path, pattern, rows) in config["splits"].items():
            table = datasets.Dataset.from_dict(rows, features=config["features"])
            (folder / path).parent.mkdir(parents=True, exist_ok=True)
            if path.endswith(".jsonl"):
                table.to_json(folder / path, lines=True, force_ascii=False)
            else:
                table.to_parquet(folder / path)
            splits.append({"name": split, "num_examples": len(table)})
            files.append({"split": split, "path": pattern})
        infos.append({"config_name": config["name"], "features": config["features_yaml"],
                      "splits": splits})
        cards.append({"config_name": config["name"], "data_files": files})
    meta = {"dataset_info": infos, "configs": cards}
    text = "---\n" + yaml.dump(meta, Dumper=CardDumper, sort_keys=False, allow_unicode=True) + "---\n\n"
    (folder / "README.md").write_text(text + NOTE.format(id=hub) + extra, encoding="utf-8")


def suites():
    """The paper suites, parsed."""
    return [load_suite(path) for path in SUITES]


def task_langs(task: str) -> list[str]:
    """Every target and source of ``task`` in the paper suites, in first-seen order."""
    langs = []
    for suite in suites():
        spec = suite.tasks.get(task)
        if spec is not None:
            langs += [*spec.targets, *spec.sources]
    return list(dict.fromkeys(langs))


def wikiann(root: Path) -> None:
    """unimelb-nlp/wikiann: config = Wikipedia code, ``<code>/<split>-00000-of-00001.parquet``."""
    features = datasets.Features({
        "tokens": datasets.Sequence(datasets.Value("string")),
        "ner_tags": datasets.Sequence(datasets.ClassLabel(names=list(NER_LABELS))),
        "langs": datasets.Sequence(datasets.Value("string")),
        "spans": datasets.Sequence(datasets.Value("string"))})
    features_yaml = [{"name": "tokens", "sequence": "string"},
                     {"name": "ner_tags", "sequence": class_label_yaml(NER_LABELS)},
                     {"name": "langs", "sequence": "string"},
                     {"name": "spans", "sequence": "string"}]
    configs = []
    for lang in task_langs("ner"):
        code = WIKIPEDIA_CODES[lang]
        splits = {}
        for split in ("validation", "test", "train"):
            rows = {"tokens": [], "ner_tags": [], "langs": [], "spans": []}
            for i in range(ROWS):
                tokens = words(code, i)
                tags = [0, 5, 6, 0, 1]  # O B-LOC I-LOC O B-PER
                rows["tokens"].append(tokens)
                rows["ner_tags"].append(tags)
                rows["langs"].append([code] * len(tokens))
                rows["spans"].append([f"LOC: {tokens[1]} {tokens[2]}", f"PER: {tokens[4]}"])
            splits[split] = (f"{code}/{split}-00000-of-00001.parquet", f"{code}/{split}-*", rows)
        configs.append({"name": code, "features": features, "features_yaml": features_yaml,
                        "splits": splits})
    write_hub_repo(root, "unimelb-nlp/wikiann", configs)


def nli_rows(lang: str, language_column: bool = False) -> dict:
    """Columns of ``ROWS`` NLI pairs of ``lang``, labels cycling through the three."""
    rows = {"premise": [], "hypothesis": [], "label": []}
    if language_column:
        rows = {"language": [], **rows}
    for i in range(ROWS):
        if language_column:
            rows["language"].append(lang)
        rows["premise"].append(sentence(lang, i, 6))
        rows["hypothesis"].append(sentence(lang, i, 3))
        rows["label"].append(i % len(NLI_LABELS))
    return rows


def nli_features(language_column: bool = False):
    """XNLI's / AmericasNLI's features and their card form (``language`` in ``all_languages``)."""
    label = datasets.ClassLabel(names=list(NLI_LABELS))
    columns = {"premise": datasets.Value("string"), "hypothesis": datasets.Value("string"),
               "label": label}
    yaml_columns = [{"name": "premise", "dtype": "string"},
                    {"name": "hypothesis", "dtype": "string"},
                    {"name": "label", "dtype": class_label_yaml(NLI_LABELS)}]
    if language_column:
        columns = {"language": datasets.Value("string"), **columns}
        yaml_columns = [{"name": "language", "dtype": "string"}, *yaml_columns]
    return datasets.Features(columns), yaml_columns


def xnli(root: Path) -> None:
    """facebook/xnli: config = ISO 639-1 code, ``<code>/<split>-00000-of-00001.parquet``."""
    features, features_yaml = nli_features()
    configs = []
    for lang in nli.XNLI_CODES:
        code = nli.XNLI_CODES[lang]
        splits = {split: (f"{code}/{split}-00000-of-00001.parquet", f"{code}/{split}-*",
                          nli_rows(code)) for split in ("train", "test", "validation")}
        configs.append({"name": code, "features": features, "features_yaml": features_yaml,
                        "splits": splits})
    write_hub_repo(root, "facebook/xnli", configs)


def americas_nli(root: Path) -> None:
    """nala-cub/americas_nli: ten language configs and ``all_languages``; validation and test.

    Files ``<config>/<split>/0000.parquet``, the parquet converter's layout (seen at 468f2b9).
    """
    features, features_yaml = nli_features()
    configs = []
    codes = list(nli.AMERICASNLI_CODES.values())
    for code in codes:
        splits = {split: (f"{code}/{split}/0000.parquet", f"{code}/{split}/*.parquet",
                          nli_rows(code)) for split in ("validation", "test")}
        configs.append({"name": code, "features": features, "features_yaml": features_yaml,
                        "splits": splits})
    all_features, all_yaml = nli_features(language_column=True)
    merged = {}
    for split in ("validation", "test"):
        rows: dict[str, list] = {"language": [], "premise": [], "hypothesis": [], "label": []}
        for code in codes:
            for key, values in nli_rows(code, language_column=True).items():
                rows[key] += values
        merged[split] = (f"all_languages/{split}/0000.parquet",
                         f"all_languages/{split}/*.parquet", rows)
    configs.append({"name": "all_languages", "features": all_features, "features_yaml": all_yaml,
                    "splits": merged})
    write_hub_repo(root, "nala-cub/americas_nli", configs)


FLORES_FEATURES = datasets.Features({
    "id": datasets.Value("int64"), "iso_639_3": datasets.Value("string"),
    "iso_15924": datasets.Value("string"), "glottocode": datasets.Value("string"),
    "variant": datasets.Value("string"), "text": datasets.Value("string"),
    "url": datasets.Value("string"), "domain": datasets.Value("string"),
    "topic": datasets.Value("string"), "has_image": datasets.Value("string"),
    "has_hyperlink": datasets.Value("string"), "last_updated": datasets.Value("string"),
    "split": datasets.Value("string")})
"""FLORES+ columns and types at the pinned commit (docs/data.md); the loader reads ``id``, ``text``."""


def flores_plus(root: Path) -> None:
    """openlanguagedata/flores_plus at its pinned commit: one JSON-lines config per language.

    Config ``<lang>_<Script>``, files ``<split>/<config>.jsonl``, plus ``default`` over every file.
    """
    codes = set()  # the pairs the authors took from FLORES (their alignment/flores/ tree)
    source = parallel.DataSource(release=ALIGNMENT)
    for suite in suites():
        for spec in suite.tasks.values():
            for target, lang in itertools.product(spec.targets, spec.sources):
                if "/flores/" in authors_parallel.relative_path(source, target, lang):
                    codes |= {parallel.FLORES_CODES[code] for code in (target, lang)}
    features_yaml = [{"name": name, "dtype": feature.dtype} for name, feature in FLORES_FEATURES.items()]
    configs = []
    for code in sorted(codes):
        iso, script = code.split("_")
        splits = {}
        for split in ("dev", "devtest"):
            ids = list(range(ROWS + 2))[::-1]  # rows stored out of id order: the loader sorts
            splits[split] = (f"{split}/{code}.jsonl", f"{split}/{code}.jsonl", {
                "id": ids, "iso_639_3": [iso] * len(ids), "iso_15924": [script] * len(ids),
                "glottocode": ["none0000"] * len(ids), "variant": [""] * len(ids),
                "text": [f"flores {split} {i} " + " ".join(words(code, i, 4)) for i in ids],
                "url": [f"https://example.invalid/{i}" for i in ids],
                "domain": ["wikinews"] * len(ids), "topic": ["synthetic"] * len(ids),
                "has_image": ["no"] * len(ids), "has_hyperlink": ["no"] * len(ids),
                "last_updated": ["1.0"] * len(ids), "split": [split] * len(ids)})
        configs.append({"name": code, "features": FLORES_FEATURES, "features_yaml": features_yaml,
                        "splits": splits})
    write_hub_repo(root, "openlanguagedata/flores_plus", configs)
    # every language at once: the dataset's own `default` config (docs/data.md)
    readme = root / "hub/openlanguagedata/flores_plus/README.md"
    text = readme.read_text(encoding="utf-8")
    default = ("- config_name: default\n  data_files:\n  - split: dev\n    path: dev/*.jsonl\n"
               "  - split: devtest\n    path: devtest/*.jsonl\n")
    readme.write_text(text.replace("configs:\n", "configs:\n" + default, 1), encoding="utf-8")


def wikipedia(root: Path) -> None:
    """wikimedia/wikipedia: config ``20231101.<wiki>``, ``<config>/train-00000-of-00001.parquet``."""
    langs = []
    for suite in suites():
        for role in ("source", "target"):
            if suite.monolingual.data_for(role).hub is None:
                continue
            langs += [lang for spec in suite.tasks.values() for lang in getattr(spec, f"{role}s")]
    features = datasets.Features({name: datasets.Value("string")
                                  for name in ("id", "url", "title", "text")})
    features_yaml = [{"name": name, "dtype": "string"} for name in features]
    configs = []
    for lang in dict.fromkeys(langs):
        code = WIKIPEDIA_CODES[lang]
        config = f"{WIKIPEDIA_DUMP}.{code}"
        rows = {"id": [str(i + 1) for i in range(ROWS)],
                "url": [f"https://{code}.wikipedia.org/wiki?curid={i + 1}" for i in range(ROWS)],
                "title": [f"{code} {i}" for i in range(ROWS)],
                "text": ["\n\n".join(sentence(code, 10 * i + j, 8) for j in range(4))
                         for i in range(ROWS)]}
        shards = WIKIPEDIA_SHARDS.get(code, 1)
        configs.append({"name": config, "features": features, "features_yaml": features_yaml,
                        "splits": {"train": (f"{config}/train-00000-of-{shards:05d}.parquet",
                                             f"{config}/train-*", rows)}})
    write_hub_repo(root, "wikimedia/wikipedia", configs)


# -- releases, OPUS and the authors' parallel files ---------------------------------------------


def conllu(tb: str, split: str, multiword: bool = True) -> str:
    """Sentences with a multi-word token and an empty node (``multiword``), as UD writes them."""
    blocks = []
    for i in range(ROWS):
        forms = words(tb.replace("_", ""), i, 3)
        lines = [f"# sent_id = {tb}-{split}-{i}", f"# text = {' '.join(forms)}"]
        if multiword:
            lines.append(f"1-2\t{forms[0]}{forms[1]}\t_\t_\t_\t_\t_\t_\t_\t_")
        for j, form in enumerate(forms, start=1):
            upos = UPOS_LABELS[(i + j) % len(UPOS_LABELS)]
            head = 0 if j == 1 else 1
            lines.append(f"{j}\t{form}\t{form}\t{upos}\t_\t_\t{head}\t{'root' if j == 1 else 'dep'}\t_\t_")
            if j == 1 and multiword:
                lines.append(f"1.1\t{form}\t{form}\t{upos}\t_\t_\t_\t_\t0:root\t_")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n\n"


def ud_files(release: str) -> dict[str, str]:
    """Relative path → text of every treebank file the paper suites read from ``release``.

    The file names are the real ones: for the tarball those of each repository's ``r2.13`` tag
    (``releases.py`` pins them; ru_syntagrus's train is three parts, sa_ufal has no train),
    for ``ud_repositories`` the pinned files themselves. Targets need test, sources all splits.
    """
    listing = [name for version in releases.RELEASES["ud_repositories"].versions.values()
               for name in version.checksums]
    files = {}
    for suite in suites():
        spec = suite.tasks.get("pos")
        if spec is None:
            continue
        for lang, splits in [*((t, ("test",)) for t in spec.targets),
                             *((s, ("train", "validation", "test")) for s in spec.sources)]:
            if spec.data_for(lang).release != release:
                continue
            for tb in ud.TREEBANKS[lang]:
                for split in splits:
                    for name in listing:
                        if ud._is_split_file(name, ud.FOLDERS[tb], tb, split):
                            files[name] = conllu(tb, split, multiword=tb != "sd_mazhardootio")
    return files


def ud_release(root: Path) -> None:
    """The tarball (suites' ``release: ud``) and the file set (``release: ud_repositories``)."""
    files = {f"{UD_ROOT}/{name}": text for name, text in ud_files("ud").items()}
    path = root / "releases" / "ud" / f"{UD_ROOT}.tgz"
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(files):
            data = files[name].encode("utf-8")
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            tar.addfile(info, io.BytesIO(data))
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz:
        gz.write(buffer.getvalue())
    for name, text in ud_files("ud_repositories").items():
        path = root / "releases" / "ud_repositories" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def americasnlp(root: Path) -> None:
    """AmericasNLP 2021: ``data/<pair>/train.<code>``, one sentence per line."""
    for lang, relative in monolingual.AMERICASNLP_FILES.items():
        path = root / "releases" / "americasnlp2021" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(sentence(lang, i, 8) + "\n" for i in range(ROWS * 2)),
                        encoding="utf-8")


def americasnli(root: Path) -> None:
    """AmericasNLI repository: ``{dev,test}/<code>.tsv`` with the language column."""
    for split in nli.RELEASE_SPLITS.values():
        for code in nli.AMERICASNLI_CODES.values():
            path = root / "releases" / "americasnli" / split / f"{code}.tsv"
            path.parent.mkdir(parents=True, exist_ok=True)
            rows = nli_rows(code, language_column=True)
            lines = ["\t".join(nli.RELEASE_HEADER)] + [
                "\t".join([rows["language"][i], rows["premise"][i], rows["hypothesis"][i],
                           NLI_LABELS[rows["label"][i]]]) for i in range(ROWS)]
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def opus_pairs() -> dict[str, int]:
    """Moses file stem (``Tatoeba.ang-en``) → sentence pairs in the real file (opus/evidence.yaml)."""
    listing = yaml.safe_load((ROOT / "fixtures" / "replicas" / "opus" / EVIDENCE).read_text())
    return listing["pairs"]


def opus_files(root: Path) -> None:
    """Every OPUS Moses file pair the listing names, with min(PAIRS, its real pair count) lines.

    From the listing itself, not the suites: no paper suite reads OPUS now, and the replica
    serves the OPUS option and the public alternatives the suites list. No per-pair files: no
    public source holds a ``pairs`` folder.
    """
    for stem, count in opus_pairs().items():
        codes = stem.split(".", 1)[1].split("-")
        for code in codes:
            lines = [f"{code} {i} " + " ".join(words(code, i, 4)) for i in range(min(PAIRS, count))]
            path = root / "opus" / f"{stem}.{code}"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


ALIGNMENT = "unibridge_alignment"
ALIGNMENT_EVIDENCE = """\
source: "the UniBridge authors' K parallel sentences per (target, source) pair, copied byte for byte"
evidence:
  - TokisakiKurumi2001/UniBridge@{commit}:xlm/alignment
  - TokisakiKurumi2001/UniBridge@{commit}:xlm/weight.py
files:
{files}"""


def unibridge_alignment(root: Path, shipped: dict[str, bytes]) -> None:
    """The authors' files of every (target, source) and (target, eng) pair the suites read."""
    pin = releases.RELEASES[ALIGNMENT].versions[releases.RELEASES[ALIGNMENT].default_version]
    source = parallel.DataSource(release=ALIGNMENT)
    wanted = sorted({authors_parallel.relative_path(source, target, lang)
                     for suite in suites() for spec in suite.tasks.values()
                     for target in spec.targets for lang in (authors_parallel.ENGLISH, *spec.sources)})
    for relative in wanted:
        data = shipped[relative]
        if "sha256:" + hashlib.sha256(data).hexdigest() != pin.checksums[relative]:
            raise SystemExit(f"{relative}: not the pinned bytes of the authors' file")
        path = root / ALIGNMENT / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    commit = releases.RELEASES[ALIGNMENT].default_version
    files = "".join(f"  - {r}\n" for r in wanted)
    (root / ALIGNMENT / "evidence.yaml").write_text(
        ALIGNMENT_EVIDENCE.format(commit=commit, files=files), encoding="utf-8")


def alignment_bytes(repo: Path | None) -> dict[str, bytes]:
    """The authors' files by relative path: from a clone at the pinned commit, else the replica."""
    import subprocess

    pin = releases.RELEASES[ALIGNMENT].versions[releases.RELEASES[ALIGNMENT].default_version]
    commit = releases.RELEASES[ALIGNMENT].default_version
    if repo is not None:
        return {r: subprocess.run(["git", "-C", str(repo), "show", f"{commit}:{r}"], check=True,
                                  capture_output=True).stdout for r in pin.checksums}
    folder = ROOT / "fixtures" / "replicas" / ALIGNMENT
    return {r: (folder / r).read_bytes() for r in pin.checksums if (folder / r).is_file()}


def main() -> None:
    """Write every replica under ``--out``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "fixtures" / "replicas")
    parser.add_argument("--unibridge-repo", type=Path, default=None,
                        help="a git clone of TokisakiKurumi2001/UniBridge (else the shipped copies)")
    args = parser.parse_args()
    out, shipped = args.out, alignment_bytes(args.unibridge_repo)
    evidence = {path: path.read_bytes() for path in out.rglob(EVIDENCE)}  # hand-written: kept
    for part in ("hub", "releases", "opus", ALIGNMENT, *EXAMPLE_PARTS):
        shutil.rmtree(out / part, ignore_errors=True)
    for path, data in evidence.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    datasets.disable_progress_bars()
    for build in (wikiann, xnli, americas_nli, flores_plus, wikipedia, ud_release, americasnlp,
                  americasnli, opus_files, *EXAMPLE_BUILDS):
        build(out)
    unibridge_alignment(out, shipped)
    total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    digest = hashlib.sha256()
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        digest.update(path.relative_to(out).as_posix().encode() + path.read_bytes())
    print(f"wrote {out} ({total / 1024:.0f} KiB, sha256 {digest.hexdigest()[:16]})")


if __name__ == "__main__":
    main()
