#!/usr/bin/env bash
# The GPU path in at most 8 minutes (issue 24), on a machine with one CUDA card.
#
# Usage (from the repository root):
#   bash benchmarks/gpu_check.sh             # on the GPU machine; figures under $OUT
#   bash benchmarks/gpu_check.sh --dry-run   # on a CPU: every step with a tiny/CPU stand-in
#
# Steps, each under its own time limit (the sum stays under 8 minutes):
#   1. the smoke suite three times at once, each in a fresh workdir: --device cpu (the reference),
#      --device cuda (fp16, the default) and --device cuda --precision bf16 where the card has
#      it; restricted to $GPU_CHECK_ONLY (default: the tiny-xlmr jobs, 21 of 84; set it to ""
#      for the whole suite if the card and the CPUs are fast);
#   2. benchmarks/compare_records.py: each CUDA run's records against the CPU run's (counts and
#      steps exact, scores within 10 points, other numbers within 5 %; bf16 within 10 %);
#   3. benchmarks/training_flops.py --device cuda --layers 12 (FLOP-counted stages 3 and 4 at
#      full depth), skipped with a line saying so where the script or its options are absent;
#   4. benchmarks/oom_backoff.py: a real CUDA out-of-memory (XLM-R base shape, 250K vocabulary,
#      one batch of 1024 x 128 asked for on the device) and the harness's back-off from it.
# Everything each step prints, its records and figures go to $OUT (default ./gpu-check-out);
# the summary is printed last and kept in $OUT/summary.txt. Exit status 1 when a step failed.
#
# --dry-run: the "cuda" runs are CPU runs (bf16 on the CPU), of one job; training_flops runs on
# the CPU with one layer; the OOM is simulated. It checks the script, not the GPU.

set -uo pipefail
cd "$(dirname "$0")/.."
DRY_RUN=0
[[ "${1:-}" == "--dry-run" ]] && DRY_RUN=1
OUT="${OUT:-./gpu-check-out}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
WORK="${GPU_CHECK_WORK:-$(mktemp -d)}"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
SUMMARY="$OUT/summary.txt"
: > "$SUMMARY"
FAILED=0
STARTED=$SECONDS

say() { echo "$*" | tee -a "$SUMMARY"; }
elapsed() { echo $((SECONDS - STARTED)); }

# ---- 0. the device --------------------------------------------------------------------------
python3 - > "$OUT/device.txt" 2>&1 <<'EOF'
import torch
print(f"torch {torch.__version__}, CUDA build {torch.version.cuda}")
if torch.cuda.is_available():
    props = torch.cuda.get_device_properties(0)
    print(f"gpu: {props.name}, {props.total_memory / 2**30:.0f} GiB, compute capability "
          f"{props.major}.{props.minor}, bf16 {'yes' if torch.cuda.is_bf16_supported() else 'no'}")
else:
    print("gpu: none visible")
EOF
cat "$OUT/device.txt"
command -v nvidia-smi > /dev/null && nvidia-smi -L >> "$OUT/device.txt" 2>&1
if [[ $DRY_RUN == 0 ]] && ! grep -q "^gpu: .*GiB" "$OUT/device.txt"; then
    say "gpu_check: no CUDA device visible; nothing checked (bash $0 --dry-run checks the script on a CPU)"
    exit 2
fi
BF16=0
grep -q "bf16 yes" "$OUT/device.txt" && BF16=1
[[ $DRY_RUN == 1 ]] && BF16=1  # the CPU has bf16
say "gpu_check $(date -u +%FT%TZ)$([[ $DRY_RUN == 1 ]] && echo ' (DRY RUN on the CPU)'): $(grep '^gpu' "$OUT/device.txt")"

# ---- 1. the smoke suite: CPU reference, CUDA fp16, CUDA bf16 -------------------------------
if [[ $DRY_RUN == 1 ]]; then
    ONLY="${GPU_CHECK_ONLY-method=zero_shot backbone=tiny-xlmr task=ner}"
    GPU=(--device cpu)
    SMOKE_LIMIT=600
else
    ONLY="${GPU_CHECK_ONLY-backbone=tiny-xlmr}"
    GPU=(--device cuda)
    SMOKE_LIMIT=240
fi
ONLY_ARGS=()
for pair in $ONLY; do ONLY_ARGS+=(--only "$pair"); done

smoke() {  # name, run options...: one run in its own workdir; its wall seconds in $OUT/<name>.seconds
    local name=$1
    shift
    local start=$SECONDS
    OMP_NUM_THREADS=${GPU_CHECK_THREADS:-4} timeout "$SMOKE_LIMIT" python3 -m harness.cli.main run \
        suites/smoke.yaml --workdir "$WORK/$name" "${ONLY_ARGS[@]}" "$@" \
        > "$OUT/$name.log" 2> "$OUT/$name.stderr"
    echo "$? $((SECONDS - start))" > "$OUT/$name.status"
    [[ -f "$WORK/$name/results.jsonl" ]] && cp "$WORK/$name/results.jsonl" "$OUT/$name-results.jsonl"
}

smoke cpu --device cpu &
RUNS=($!)
smoke cuda-fp16 "${GPU[@]}" &
RUNS+=($!)
if [[ $BF16 == 1 ]]; then
    smoke cuda-bf16 "${GPU[@]}" --precision bf16 &
    RUNS+=($!)
fi
MONITOR=""
if [[ $DRY_RUN == 0 ]] && command -v nvidia-smi > /dev/null; then  # the card's memory, each second
    nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -l 1 > "$OUT/gpu-memory-mib.csv" 2>&1 &
    MONITOR=$!
fi
wait "${RUNS[@]}"
[[ -n $MONITOR ]] && kill "$MONITOR" 2> /dev/null
say "1. smoke suite (--only ${ONLY:-none}), three runs at once:"
[[ -n $MONITOR ]] && say "   GPU memory used at most: $(sort -n "$OUT/gpu-memory-mib.csv" | tail -n1) MiB (both CUDA runs together)"
for name in cpu cuda-fp16 cuda-bf16; do
    if [[ ! -f "$OUT/$name.status" ]]; then
        say "   $name: skipped (the card has no bf16)"
        continue
    fi
    read -r code seconds < "$OUT/$name.status"
    state="ok"
    [[ $code == 124 ]] && state="TIMED OUT after ${SMOKE_LIMIT} s"
    [[ $code != 0 && $code != 124 ]] && state="FAILED (exit $code, see $name.stderr)"
    [[ $state != ok ]] && FAILED=1
    say "   $name: $state, ${seconds} s; $(grep -m1 ' jobs: ' "$OUT/$name.log" || echo 'no summary line')"
done

# ---- 2. records: each CUDA run against the CPU run -----------------------------------------
say "2. records against the CPU run's (compare_records.py):"
for name in cuda-fp16 cuda-bf16; do
    [[ -f "$OUT/$name-results.jsonl" && -f "$OUT/cpu-results.jsonl" ]] || { say "   $name: no records to compare"; continue; }
    tolerance=()
    [[ $name == cuda-bf16 ]] && tolerance=(--rel-tol 0.10)  # 8 mantissa bits against fp16's 11
    python3 benchmarks/compare_records.py "$OUT/cpu-results.jsonl" "$OUT/$name-results.jsonl" \
        "${tolerance[@]}" --json "$OUT/compare-$name.json" > "$OUT/compare-$name.txt" 2>&1
    code=$?
    [[ $code != 0 ]] && FAILED=1
    say "   $name: $(tail -n1 "$OUT/compare-$name.txt"); $(grep -m1 '^score' "$OUT/compare-$name.txt")"
done

# ---- 3. the FLOP-counted training benchmark at full depth ----------------------------------
FLOPS_LIMIT=110
if [[ ! -f benchmarks/training_flops.py ]]; then
    say "3. training_flops: skipped: benchmarks/training_flops.py is not in this tree"
else
    if [[ $DRY_RUN == 1 ]]; then FLOPS=(--device cpu --layers 1); else FLOPS=(--device cuda --layers 12); fi
    start=$SECONDS
    timeout "$FLOPS_LIMIT" python3 benchmarks/training_flops.py "${FLOPS[@]}" \
        > "$OUT/training_flops.txt" 2> "$OUT/training_flops.stderr"
    code=$?
    state="ok"
    [[ $code == 124 ]] && state="TIMED OUT after ${FLOPS_LIMIT} s"
    [[ $code != 0 && $code != 124 ]] && state="FAILED (exit $code, see training_flops.stderr)"
    [[ $state != ok ]] && FAILED=1
    say "3. training_flops ${FLOPS[*]}: $state, $((SECONDS - start)) s; its figures:"
    grep -iE "ratio|target|FLOP" "$OUT/training_flops.txt" | head -n 12 | sed 's/^/   /' | tee -a "$SUMMARY"
fi

# ---- 4. the OOM back-off on a real out-of-memory -------------------------------------------
OOM_LIMIT=90
if [[ $DRY_RUN == 1 ]]; then OOM=(--dry-run); else OOM=(--device cuda); fi
start=$SECONDS
timeout "$OOM_LIMIT" python3 benchmarks/oom_backoff.py "${OOM[@]}" --out "$OUT/oom_backoff.json" \
    > "$OUT/oom_backoff.txt" 2> "$OUT/oom_backoff.stderr"
code=$?
[[ $code != 0 ]] && FAILED=1
state="exit $code"
[[ $code == 124 ]] && state="TIMED OUT after ${OOM_LIMIT} s"
say "4. OOM back-off ($state, $((SECONDS - start)) s):"
sed 's/^/   /' "$OUT/oom_backoff.txt" | tee -a "$SUMMARY"

say "gpu_check: $(elapsed) s in all (limit 480 s); $([[ $FAILED == 0 ]] && echo 'every step passed' || echo 'a step FAILED'); figures in $OUT"
[[ -z "${GPU_CHECK_WORK:-}" ]] && rm -rf "$WORK"
exit $FAILED
