"""``unibridge-bench vocab-search``: stage 1 (Algorithm 1) on its own, outside any suite."""

from __future__ import annotations

from pathlib import Path

import click

from harness.cli.common import setup_logging, user_errors, verbose_option


@click.command("vocab-search")
@click.argument("corpus", metavar="CORPUS",
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", required=True, metavar="DIR", type=click.Path(file_okay=False, path_type=Path),
              help="Where spm.model, spm.vocab and search.json go.")
@click.option("--threshold", type=click.FloatRange(min=0), help="ε_s (default: 5.0; Figure 3: 10, 15).")
@click.option("--start", type=click.IntRange(min=1), help="v_i (default: 7000).")
@click.option("--step", type=click.IntRange(min=1), help="δ_v (default: 1000).")
@click.option("--max", "max_size", type=click.IntRange(min=1), help="v_m (default: 60000).")
@click.option("--fixed-size", type=click.IntRange(min=1),
              help="Ablation: train exactly this size, no search.")
@click.option("--character-coverage", type=click.FloatRange(min=0, max=1, min_open=True),
              help="SentencePiece character coverage (default: 0.9995).")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Keep trained tokenizers here for later searches (default: none kept).")
@click.option("--lookahead", type=click.IntRange(min=1), metavar="K",
              help="Train K sizes at once (default: usable cores; 1: serial scan). Same size, any K.")
@verbose_option
@user_errors
def vocab_search(corpus, out, threshold, start, step, max_size, fixed_size, character_coverage,
                 cache_dir, lookahead, verbose):
    """Find the vocabulary size by average log probability (UniBridge stage 1, Algorithm 1, Eq. 1).

    CORPUS is the target-language text, one sample per line.

    \b
    Example:
      unibridge-bench vocab-search data/amh.txt --out vocab/amh
      unibridge-bench vocab-search data/amh.txt --out vocab/amh --threshold 10 --cache-dir spm-cache

    Options left out take the stage's defaults (VocabSearchConfig).
    """  # noqa: D301 (click needs the real \\b character)
    from harness.methods.unibridge.vocab import VocabSearchConfig, run_search

    setup_logging(verbose)
    options = dict(threshold=threshold, start=start, step=step, max_size=max_size,
                   fixed_size=fixed_size, character_coverage=character_coverage)
    config = VocabSearchConfig(**{k: v for k, v in options.items() if v is not None})
    report = run_search(corpus, config, out, cache_dir=cache_dir, lookahead=lookahead)
    click.echo(f"{out}: vocabulary size {report['vocab_size']} ({report['strategy']}, "
               f"{report['trainings']} trainings, lookahead {report['lookahead']})")
