"""The recorded file listings of hub datasets at pinned commits (read by :mod:`harness.data.hub_listings`).

Data only, per hub id and commit: ``recorded`` (the date of the latest evidence), ``complete`` (whether
``configs`` is every config the commit holds), ``splits`` (the splits each config holds), ``evidence``
(where the listing was seen: public pages and code, with dates), ``configs`` (the configs seen), and
``unevidenced`` (configs the paper suites read that no evidence shows at that commit, and why).
Where each came from, in full: docs/data.md, "Hub datasets".
"""

from __future__ import annotations

from typing import Any

LISTINGS: dict[str, dict[str, dict[str, Any]]] = {
    "wikimedia/wikipedia": {
        "b04c8d1ceb2f5cd4588862100d08de323dccfbaa": {
            "recorded": "2026-09-05",
            "complete": True,
            "splits": [
                "train",
            ],
            "evidence": [
                ("the head of main: public code records b04c8d1… as "
                 "huggingface_hub.HfApi().dataset_info('wikimedia/wikipedia').sha, observed "
                 "2026-09-05, and reads 20231101.sa at it"),
                ("the config list: every 20231101 config main offered on 2025-05-06, as listed "
                 "by public code (github.com/ofimbres/cse517p-project, "
                 "download_wikipedia_dataset.sh, commit 8ba8af5, 2025-05-06: the 323 names "
                 "`load_dataset` gives as available); hub history only moves forward, so main's "
                 "later head b04c8d1 holds them (no commit deleting a config is known)"),
                ("read at b04c8d1 directly: 20231101.en, .zh, .ru, .sa (and .fa, .fr, .te, .tr "
                 "in public code)"),
            ],
            "direct": {
                "20231101.en": ("HF cache snapshots datasets--wikimedia--"
                 "wikipedia/snapshots/b04c8d1…/20231101.en/train-000NN-of-00041.parquet and http"
                 "s://huggingface.co/datasets/wikimedia/wikipedia/resolve/b04c8d1…/20231101.en/t"
                 "rain-00000-of-00041.parquet in public code"),
                "20231101.zh": ("https://huggingface.co/api/datasets/wikimedia/wikipedia/tree/b04c8d1…/20231101"
                 ".zh cited as the shard listing in public docs"),
                "20231101.ru": ("public code streaming wikimedia/wikipedia at b04c8d1… config 20231101.ru "
                 "(DATASET_CONFIGS en/zh/ru at that revision)"),
                "20231101.sa": ("public loader reading 20231101.sa/train-00000-of-00001.parquet at b04c8d1…, "
                 "the revision observed 2026-09-05 as dataset_info('wikimedia/wikipedia').sha"),
            },
            "configs": [
                "20231101.ab", "20231101.ace", "20231101.ady", "20231101.af", "20231101.als",
                "20231101.alt", "20231101.am", "20231101.ami", "20231101.an", "20231101.ang",
                "20231101.anp", "20231101.ar", "20231101.arc", "20231101.ary", "20231101.arz",
                "20231101.as", "20231101.ast", "20231101.atj", "20231101.av", "20231101.avk",
                "20231101.awa", "20231101.ay", "20231101.az", "20231101.azb", "20231101.ba",
                "20231101.ban", "20231101.bar", "20231101.bat-smg", "20231101.bcl", "20231101.be",
                "20231101.be-x-old", "20231101.bg", "20231101.bh", "20231101.bi", "20231101.bjn",
                "20231101.blk", "20231101.bm", "20231101.bn", "20231101.bo", "20231101.bpy",
                "20231101.br", "20231101.bs", "20231101.bug", "20231101.bxr", "20231101.ca",
                "20231101.cbk-zam", "20231101.cdo", "20231101.ce", "20231101.ceb", "20231101.ch",
                "20231101.chr", "20231101.chy", "20231101.ckb", "20231101.co", "20231101.cr",
                "20231101.crh", "20231101.cs", "20231101.csb", "20231101.cu", "20231101.cv",
                "20231101.cy", "20231101.da", "20231101.dag", "20231101.de", "20231101.din",
                "20231101.diq", "20231101.dsb", "20231101.dty", "20231101.dv", "20231101.dz",
                "20231101.ee", "20231101.el", "20231101.eml", "20231101.en", "20231101.eo",
                "20231101.es", "20231101.et", "20231101.eu", "20231101.ext", "20231101.fa",
                "20231101.fat", "20231101.ff", "20231101.fi", "20231101.fiu-vro", "20231101.fj",
                "20231101.fo", "20231101.fon", "20231101.fr", "20231101.frp", "20231101.frr",
                "20231101.fur", "20231101.fy", "20231101.ga", "20231101.gag", "20231101.gan",
                "20231101.gcr", "20231101.gd", "20231101.gl", "20231101.glk", "20231101.gn",
                "20231101.gom", "20231101.gor", "20231101.got", "20231101.gpe", "20231101.gu",
                "20231101.guc", "20231101.gur", "20231101.guw", "20231101.gv", "20231101.ha",
                "20231101.hak", "20231101.haw", "20231101.he", "20231101.hi", "20231101.hif",
                "20231101.hr", "20231101.hsb", "20231101.ht", "20231101.hu", "20231101.hy",
                "20231101.hyw", "20231101.ia", "20231101.id", "20231101.ie", "20231101.ig",
                "20231101.ik", "20231101.ilo", "20231101.inh", "20231101.io", "20231101.is",
                "20231101.it", "20231101.iu", "20231101.ja", "20231101.jam", "20231101.jbo",
                "20231101.jv", "20231101.ka", "20231101.kaa", "20231101.kab", "20231101.kbd",
                "20231101.kbp", "20231101.kcg", "20231101.kg", "20231101.ki", "20231101.kk",
                "20231101.kl", "20231101.km", "20231101.kn", "20231101.ko", "20231101.koi",
                "20231101.krc", "20231101.ks", "20231101.ksh", "20231101.ku", "20231101.kv",
                "20231101.kw", "20231101.ky", "20231101.la", "20231101.lad", "20231101.lb",
                "20231101.lbe", "20231101.lez", "20231101.lfn", "20231101.lg", "20231101.li",
                "20231101.lij", "20231101.lld", "20231101.lmo", "20231101.ln", "20231101.lo",
                "20231101.lt", "20231101.ltg", "20231101.lv", "20231101.mad", "20231101.mai",
                "20231101.map-bms", "20231101.mdf", "20231101.mg", "20231101.mhr", "20231101.mi",
                "20231101.min", "20231101.mk", "20231101.ml", "20231101.mn", "20231101.mni",
                "20231101.mnw", "20231101.mr", "20231101.mrj", "20231101.ms", "20231101.mt",
                "20231101.mwl", "20231101.my", "20231101.myv", "20231101.mzn", "20231101.nah",
                "20231101.nap", "20231101.nds", "20231101.nds-nl", "20231101.ne", "20231101.new",
                "20231101.nia", "20231101.nl", "20231101.nn", "20231101.no", "20231101.nov",
                "20231101.nqo", "20231101.nrm", "20231101.nso", "20231101.nv", "20231101.ny",
                "20231101.oc", "20231101.olo", "20231101.om", "20231101.or", "20231101.os",
                "20231101.pa", "20231101.pag", "20231101.pam", "20231101.pap", "20231101.pcd",
                "20231101.pcm", "20231101.pdc", "20231101.pfl", "20231101.pi", "20231101.pih",
                "20231101.pl", "20231101.pms", "20231101.pnb", "20231101.pnt", "20231101.ps",
                "20231101.pt", "20231101.pwn", "20231101.qu", "20231101.rm", "20231101.rmy",
                "20231101.rn", "20231101.ro", "20231101.roa-rup", "20231101.roa-tara",
                "20231101.ru", "20231101.rue", "20231101.rw", "20231101.sa", "20231101.sah",
                "20231101.sat", "20231101.sc", "20231101.scn", "20231101.sco", "20231101.sd",
                "20231101.se", "20231101.sg", "20231101.sh", "20231101.shi", "20231101.shn",
                "20231101.si", "20231101.simple", "20231101.sk", "20231101.skr", "20231101.sl",
                "20231101.sm", "20231101.smn", "20231101.sn", "20231101.so", "20231101.sq",
                "20231101.sr", "20231101.srn", "20231101.ss", "20231101.st", "20231101.stq",
                "20231101.su", "20231101.sv", "20231101.sw", "20231101.szl", "20231101.szy",
                "20231101.ta", "20231101.tay", "20231101.tcy", "20231101.te", "20231101.tet",
                "20231101.tg", "20231101.th", "20231101.ti", "20231101.tk", "20231101.tl",
                "20231101.tly", "20231101.tn", "20231101.to", "20231101.tpi", "20231101.tr",
                "20231101.trv", "20231101.ts", "20231101.tt", "20231101.tum", "20231101.tw",
                "20231101.ty", "20231101.tyv", "20231101.udm", "20231101.ug", "20231101.uk",
                "20231101.ur", "20231101.uz", "20231101.ve", "20231101.vec", "20231101.vep",
                "20231101.vi", "20231101.vls", "20231101.vo", "20231101.wa", "20231101.war",
                "20231101.wo", "20231101.wuu", "20231101.xal", "20231101.xh", "20231101.xmf",
                "20231101.yi", "20231101.yo", "20231101.za", "20231101.zea", "20231101.zh",
                "20231101.zh-classical", "20231101.zh-min-nan", "20231101.zh-yue", "20231101.zu",
            ],
        },
        "3e1f92c331f318af862b87e2319ed5dc26d80f5d": {
            "recorded": "2026-08-16",
            "complete": False,
            "splits": [
                "train",
            ],
            "evidence": [
                ("public notes citing "
                 "https://huggingface.co/datasets/wikimedia/wikipedia/tree/3e1f92c…/20231101.ur "
                 "(assessment dated 2026-08-16) and "
                 "…/blob/3e1f92c…/20231101.simple/train-00000-of-00001.parquet; where this "
                 "commit falls among the one-config-at-a-time commits is not known"),
            ],
            "configs": [
                "20231101.simple", "20231101.ur",
            ],
            "unevidenced": {
                "why": ("no evidence shows these at 3e1f92c (its place among the commits that added "
                        "the 20231101 configs one at a time is not known); b04c8d1, main's head, holds "
                        "them all (the listing above)"),
                "configs": [
                    "20231101.am", "20231101.ang", "20231101.ar", "20231101.cdo", "20231101.crh",
                    "20231101.eml", "20231101.en", "20231101.frr", "20231101.ja", "20231101.km",
                    "20231101.kn", "20231101.lij", "20231101.olo", "20231101.ps", "20231101.ru",
                    "20231101.sa", "20231101.sd", "20231101.si", "20231101.so", "20231101.ta",
                    "20231101.tl", "20231101.tt", "20231101.zh",
                ],
            },
        },
    },
    "unimelb-nlp/wikiann": {
        "f0a3be6dc5564c0cc4150bb660144800a1f539d4": {
            "recorded": "2026-10-02",
            "complete": False,
            "splits": [
                "train", "validation", "test",
            ],
            "evidence": [
                ("a public dataset audit citing https://huggingface.co/datasets/unimelb-"
                 "nlp/wikiann/tree/f0a3be6…/bn (train 10,000, validation 1,000, test 1,000)"),
                ("public code downloading <lang>/train-00000-of-00001.parquet at f0a3be6… with "
                 "SHA-256 for en ru el he ar hi th ja zh ko tr pl"),
                ("a public benchmark report (2026-10-02) reading the test split of 82 languages "
                 "at f0a3be6…"),
            ],
            "configs": [
                "ar", "bn", "el", "en", "he", "hi", "ja", "ko", "pl", "ru", "th", "tr", "zh",
            ],
            "unevidenced": {
                "why": ("the audits at f0a3be6 name the sources' configs and a few others one by one; "
                 "the 14 targets' configs were not seen at this commit (the card lists them; "
                 "that f0a3be6 holds every config is likely, as the parquet files are laid out "
                 "per config, but not shown)"),
                "configs": [
                    "am", "ang", "cdo", "crh", "eml", "frr", "km", "kn", "lij", "ps", "sa", "sd",
                    "si", "so",
                ],
            },
        },
    },
    "facebook/xnli": {
        "b8dd5d7af51114dbda02c0e3f6133f332186418e": {
            "recorded": "2026-10-02",
            "complete": True,
            "splits": [
                "train", "validation", "test",
            ],
            "evidence": [
                ("the hub's commit page "
                 "https://huggingface.co/datasets/facebook/xnli/commit/b8dd5d7… 'Convert dataset"
                 " to Parquet (#10)', adding "
                 "<config>/{train,validation,test}-00000-of-00001.parquet and a configs: entry "
                 "for every config (docs/data.md)"),
                ("public code reading en, ru, es, tr and "
                 "all_languages/test-00000-of-00001.parquet at b8dd5d7…"),
            ],
            "configs": [
                "all_languages", "ar", "bg", "de", "el", "en", "es", "fr", "hi", "ru", "sw", "th",
                "tr", "ur", "vi", "zh",
            ],
        },
    },
}
