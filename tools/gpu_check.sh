#!/usr/bin/env bash
# The GPU check (issues #12, #17): one prepared run, about 8 minutes of work on one GPU (it fits a 15-minute device
# allowance with the machine's start-up), that writes exactly three files to $OUT (or --out DIR, default
# build/gpu-check/): summary.md, summary.json, and gpu-check-logs.tar.gz holding every log in full (whole
# tracebacks), the comparison and throughput JSON and the bench results. A caller may add one file of its own and
# stay within the four files a device call brings back.
#
#   bash tools/gpu_check.sh --data DIR            # on a GPU machine; DIR holds the MVTec AD category (DIR/bottle)
#   bash tools/gpu_check.sh --dry-run             # on a CPU, tiny sizes and toy data (1-2 minutes; `make test`)
#   bash tools/gpu_check.sh --fetch-wheels        # fill .whl/ with the wheels a GPU machine lacks (needs PyPI)
#
# Steps, in the order they run (--steps picks some, e.g. --steps 4):
#   2  CPU against CUDA on the same inputs (tools/gpu_check_compare.py): LayerCAM maps (reported, with a float64
#      reference) and the anchor candidates and anchors drawn from them (judged: chapter 06's agreement), k-means,
#      CutSwap/scar swaps, PatchCore AUROC on bottle
#   3  bench/train_throughput.py at 224 px, batch 64: the table of speed options (images/s of CutSwap training and
#      of plain ResNet18, the share of a step batch building adds, torch.compile's pay-off; goals: within 1.25x of
#      plain ResNet18, building under 10 %), then two trainings at once (two processes, train's default settings)
#      against one: does one job fill the GPU?
#   4  the paper budget, offline protocol, on bottle with `cutswap bench`: 256 epochs, batch 64, 256 -> 224 px,
#      the three methods, wall time per phase (goal: CutSwap training at most 35 s). It gets the time left
#      of --budget (default 480 s) but step 1's; stopped there (SIGINT: training saves its state), the summary
#      projects the full training from the epochs done. `--steps 4 --budget 560` gives it a whole run.
#   1  nbdev-test --flags cuda, on the notebooks that have `#| cuda` cells (--all-notebooks: on every notebook)
#
# A GPU machine may have its own Python and torch but none of this package's other dependencies, no package
# index and no ../shared: the script installs the wheels in .whl/ (filled here with --fetch-wheels; list in
# tools/gpu_check_requirements.txt) and this checkout (--no-deps) into a scratch folder on PYTHONPATH, and reads
# the data from --data. Copy the category into an ignored folder of the checkout so that it travels, e.g.
#   mkdir -p .gpu-data && cp -r ../shared/data/mvtec_ad/bottle .gpu-data/
# then run `bash tools/gpu_check.sh --data .gpu-data` there with `.whl` and `.gpu-data` carried. Size of such a call
# (2026-12): the project's files 4.8 MB, .whl/ 4.8 MB (36 wheels), bottle 21.8 MB: 31.3 MB of the 64 MiB (67.1 MB).
# Exit status: 0 when every step ran and every comparison held (a goal missed is reported, not an error).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

DRY=0; DATA=""; CATEGORY=bottle; OUTDIR="${OUT:-build/gpu-check}"; WORK=""; STEPS="2,3,4,1"; BUDGET=480
ALL_NBS=0; KEEP=0; FETCH=0
usage() { sed -n '2,/^set -uo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; cat <<'EOF'
Options:
  --dry-run          CPU, toy data, tiny sizes: checks that every step still runs
  --data DIR         dataset root holding the category (MVTec AD layout); required on a GPU
  --category NAME    category to use (default bottle)
  --out DIR          where the summary and logs go (default: $OUT, else build/gpu-check)
  --work DIR         scratch folder: installed packages, toy data, training runs (default: a new /tmp folder)
  --steps LIST       steps to run, in this order (default 2,3,4,1)
  --budget SECONDS   wall-clock budget of the whole run (default 480); step 4 gets what is left
  --all-notebooks    step 1 tests every notebook, not only those with cuda cells
  --keep             keep the scratch folder
  --fetch-wheels     download the wheels of tools/gpu_check_requirements.txt into .whl/ and exit
EOF
}
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY=1 ;;
    --data) DATA="$2"; shift ;;
    --category) CATEGORY="$2"; shift ;;
    --out) OUTDIR="$2"; shift ;;
    --work) WORK="$2"; shift ;;
    --steps) STEPS="$2"; shift ;;
    --budget) BUDGET="$2"; shift ;;
    --all-notebooks) ALL_NBS=1 ;;
    --keep) KEEP=1 ;;
    --fetch-wheels) FETCH=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "gpu_check: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

PY="${PYTHON:-}"
if [ -z "$PY" ]; then if [ -x .venv/bin/python ]; then PY=$ROOT/.venv/bin/python; else PY=python3; fi; fi

if [ $FETCH = 1 ]; then
  # The platforms of the device README: wheels for CPython 3.12 on x86-64 Linux (pure-Python wheels match too).
  exec "$PY" -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 --platform manylinux1_x86_64 -d .whl -r tools/gpu_check_requirements.txt
fi

START=$(date +%s)
elapsed() { echo $(( $(date +%s) - START )); }
left() { echo $(( BUDGET - $(elapsed) )); }
mkdir -p "$OUTDIR"; OUTDIR=$(cd "$OUTDIR" && pwd)
if [ -z "$WORK" ]; then WORK=$(mktemp -d /tmp/gpu-check.XXXXXX); else mkdir -p "$WORK"; WORK=$(cd "$WORK" && pwd); fi
LOGS=$WORK/logs; mkdir -p "$LOGS"   # every log goes here, and into one archive in $OUTDIR at the end
LOG=$LOGS/gpu_check.log; : > "$LOG"; : > "$WORK/steps.jsonl"
ARCHIVE=$OUTDIR/gpu-check-logs.tar.gz
rm -f "$OUTDIR/summary.md" "$OUTDIR/summary.json" "$ARCHIVE"
say() { echo "[gpu_check $(printf '%4d' "$(elapsed)") s] $*" | tee -a "$LOG"; }
die() { say "ERROR: $*"; exit 2; }
summarize() {   # summary.md and summary.json in $OUTDIR from what the steps left in $WORK (also after an early error)
  "$PY" tools/gpu_check_summary.py --out "$OUTDIR" --logs "$LOGS" --work "$WORK" --category "$CATEGORY" $([ $DRY = 1 ] && echo --dry-run) \
    2>> "$LOG" | tee -a "$LOG"
}
cleanup() {
  local rc=$?
  if [ ! -f "$OUTDIR/summary.md" ]; then summarize > /dev/null || true; fi
  cp "$WORK/steps.jsonl" "$WORK/env.json" "$LOGS/" 2>/dev/null
  tar -czf "$ARCHIVE" -C "$WORK" logs 2>/dev/null || echo "gpu_check: could not write $ARCHIVE" >&2
  if [ $KEEP = 0 ]; then rm -rf "$WORK"; fi
  exit $rc
}
trap cleanup EXIT

# run_step NUMBER NAME LIMIT_S LOGFILE FUNCTION: run a step function, record its status and time. The function runs its
# long command under "${TO[@]}": SIGINT at the limit (training saves its state), SIGKILL 20 s later; rc 124 = timed out.
FAILED=0
run_step() {
  local num=$1 name=$2 limit=$3 logf=$4; shift 4
  if [ "$limit" -lt 10 ]; then
    say "step $num ($name): skipped, only ${limit} s of the budget left"
    echo "{\"step\": $num, \"name\": \"$name\", \"rc\": null, \"seconds\": 0, \"limit\": $limit, \"skipped\": true}" >> "$WORK/steps.jsonl"
    FAILED=1; return
  fi
  say "step $num ($name): started, limit ${limit} s, log $(basename "$logf")"
  local t0; t0=$(date +%s)
  TO=(); if command -v timeout >/dev/null; then TO=(timeout -s INT -k 20 "$limit"); fi   # used by the step functions
  "$@" > "$logf" 2>&1
  local rc=$? secs=$(( $(date +%s) - t0 ))
  local timed_out=false; if [ $rc = 124 ] || [ $rc = 137 ]; then timed_out=true; fi
  echo "{\"step\": $num, \"name\": \"$name\", \"rc\": $rc, \"seconds\": $secs, \"limit\": $limit, \"timed_out\": $timed_out, \"may_stop\": ${MAY_STOP:-0}}" >> "$WORK/steps.jsonl"
  tail -n 5 "$logf" | sed 's/^/    /' | tee -a "$LOG"
  if [ $rc = 0 ]; then say "step $num ($name): ok in ${secs} s"
  elif [ "$timed_out" = true ] && [ "${MAY_STOP:-0}" = 1 ]; then say "step $num ($name): stopped at its limit after ${secs} s (projected in the summary)"
  else say "step $num ($name): rc $rc after ${secs} s"; FAILED=1; fi
}

# ---------------------------------------------------------------- set-up: wheels, this package, data
SITE=$WORK/site; PKG=$WORK/pkg   # the wheels, and this checkout: two folders (pip --target --upgrade replaces bin/)
export PYTHONPATH="$PKG:$SITE${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 MPLBACKEND=Agg
if ls .whl/*.whl >/dev/null 2>&1; then
  say "installing $(ls .whl/*.whl | wc -l) wheels from .whl/ into $SITE"
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$SITE" .whl/*.whl \
    >> "$LOG" 2>&1 || die "installing the wheels of .whl/ failed (see $LOG)"
else
  say "no wheels in .whl/: using the packages $PY has (fill .whl/ with --fetch-wheels for a bare GPU machine)"
fi
if (cd "$WORK" && "$PY" - "$ROOT" 2>/dev/null) <<'EOF'; then
import importlib.metadata as md, json, pathlib, sys   # installed (editable) from this very checkout, as `make install` does?
url = json.loads(md.distribution('cutswap_nb').read_text('direct_url.json') or '{}').get('url', '')
sys.exit(0 if url == pathlib.Path(sys.argv[1]).resolve().as_uri() else 1)
EOF
  say "cutswap_nb is installed from this checkout already (editable): not installed again"
else
  # The build needs setuptools >= 77 (PEP 639 licence fields): the one of .whl/ or $PY's own, else from the index.
  NOISO=(--no-index --no-build-isolation)
  "$PY" -c "import setuptools, sys; sys.exit(int(setuptools.__version__.split('.')[0]) < 77)" 2>/dev/null || NOISO=()
  say "installing this checkout (--no-deps${NOISO[*]:+ ${NOISO[*]}}) into $PKG"
  "$PY" -m pip install -q --no-deps "${NOISO[@]}" --no-compile --no-cache-dir --upgrade --target "$PKG" . \
    >> "$LOG" 2>&1 || die "installing this checkout failed (see $LOG)"
fi
export PATH="$PKG/bin:$SITE/bin:$PATH"
"$PY" - > "$WORK/env.json" 2>> "$LOG" <<'EOF' || die "cannot import torch and cutswap_nb with $PY (see the log)"
import json, os, platform, subprocess, sys, torch, cutswap_nb, fastcore, fastprogress
try: smi = subprocess.run(['nvidia-smi', '--query-gpu=name,driver_version,memory.total', '--format=csv,noheader'],
                          capture_output=True, text=True, timeout=30).stdout.strip() or None
except (OSError, subprocess.SubprocessError): smi = None
print(json.dumps(dict(python=platform.python_version(), torch=torch.__version__, cuda=torch.version.cuda,
                      cuda_available=torch.cuda.is_available(), gpu=torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
                      nvidia_smi=smi, cpus=os.cpu_count(), cutswap_nb=cutswap_nb.__version__, cutswap_nb_path=cutswap_nb.__file__)))
EOF
say "environment: $(cat "$WORK/env.json")"
CUDA=$("$PY" -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["cuda_available"]))' "$WORK/env.json")

if [ $DRY = 1 ]; then
  DEVICE=cpu
  if [ -z "$DATA" ]; then
    DATA=$WORK/toy; CATEGORY=toy
    "$PY" -c "from cutswap_nb.data import make_toy_category as m; m('$DATA', 'toy', n_train=12, n_test_good=4, n_test_defect=2, size=64)" \
      >> "$LOG" 2>&1 || die "cannot write the toy category"
  fi
  CMP_ARGS=(--dry-run); TP_ARGS=(--device cpu --size 32 --batch 2 --steps 2); PAR_ARGS=(--epochs 1); PAR_LIMIT=90
  BENCH_ARGS=(--epochs 2 --batch-size 8 --size 64 --crop 56 --coreset 0.1 --device cpu)
  LIMIT_CMP=180; LIMIT_TP=240; LIMIT_TEST=120
else
  DEVICE=cuda
  [ "$CUDA" = 1 ] || die "CUDA is not available to $PY: run on a GPU machine, or use --dry-run"
  [ -n "$DATA" ] || die "--data DIR is required on a GPU: the dataset root holding $CATEGORY/ (MVTec AD layout)"
  [ -d "$DATA/$CATEGORY/train" ] || die "$DATA/$CATEGORY/train not found: --data must hold the $CATEGORY category"
  DATA=$(cd "$DATA" && pwd)
  CMP_ARGS=(); TP_ARGS=(--device cuda --size 224 --batch 64 --steps 10 --epochs 2); PAR_ARGS=(--epochs 4); PAR_LIMIT=75
  BENCH_ARGS=(--epochs 256 --batch-size 64 --size 256 --crop 224 --coreset 0.001,0.01 --device cuda)
  LIMIT_CMP=120; LIMIT_TP=210; LIMIT_TEST=150
fi
say "mode: $([ $DRY = 1 ] && echo 'dry run (CPU, toy sizes)' || echo 'GPU'); data $DATA/$CATEGORY; out $OUTDIR; work $WORK"

# ---------------------------------------------------------------- the steps
# A console script: the one installed with this checkout or the wheels, else the one beside $PY.
tool() { local d; for d in "$PKG/bin" "$SITE/bin" "$(dirname "$PY")"; do if [ -x "$d/$1" ]; then echo "$d/$1"; return; fi; done; echo "$1"; }
step1() {   # nbdev-test --flags cuda
  local nbs
  if [ $ALL_NBS = 1 ]; then nbs=$(cd nbs && ls [0-9]*.ipynb index.ipynb 2>/dev/null)
  else nbs=$(cd nbs && grep -l '"#| *cuda' *.ipynb); fi
  local re; re="^($(echo $nbs | sed 's/\.ipynb//g; s/ /|/g'))\\.ipynb\$"
  local n; n=$(echo $nbs | wc -w)
  if [ $DRY = 1 ]; then   # no CUDA: check the command line and the flag, list what a GPU run tests
    echo "cuda cells in: $nbs"
    "$PY" -c "from nbdev.config import get_config; f = get_config().tst_flags.split(); assert 'cuda' in f and 'full' in f, f; print('tst_flags:', f)" || return 1
    "$(tool nbdev-test)" --help > /dev/null || return 1
    echo "dry run: a GPU run executes: nbdev-test --flags cuda --n-workers $n --file-re '$re'"; return 0
  fi
  CUTSWAP_DATA=$DATA OMP_NUM_THREADS=2 "${TO[@]}" "$(tool nbdev-test)" --flags cuda --n-workers "$n" \
    --timing --do-print --file-re "$re"
}
step2() { "${TO[@]}" "$PY" tools/gpu_check_compare.py "${CMP_ARGS[@]}" --data "$DATA" --category "$CATEGORY" --out "$LOGS/compare.json"; }
step3() {   # the table of speed options, then two trainings at once against one
  local first=("${TO[@]}")   # the table gets the step's limit less the parallel part's
  if [ ${#TO[@]} -gt 0 ]; then first=(timeout -s INT -k 10 $(( TO[5] - PAR_LIMIT - 15 > 30 ? TO[5] - PAR_LIMIT - 15 : 30 ))); fi
  "${first[@]}" "$PY" bench/train_throughput.py "${TP_ARGS[@]}" --json "$LOGS/throughput.json" || return $?
  echo "== two trainings at once: two processes, train's default settings (row 5), started together"
  local pids=() r rc=0
  for r in a b; do
    timeout -s INT -k 10 "$PAR_LIMIT" "$PY" bench/train_throughput.py "${TP_ARGS[@]}" --only default "${PAR_ARGS[@]}" --no-plain \
      --json "$LOGS/throughput_parallel_$r.json" > "$LOGS/throughput_parallel_$r.log" 2>&1 & pids+=($!)
  done
  for r in "${pids[@]}"; do wait "$r" || rc=1; done
  tail -n 3 "$LOGS"/throughput_parallel_*.log
  return $rc
}
step4() {   # `cutswap bench`
  "${TO[@]}" "$(tool cutswap)" bench --root "$DATA" --categories "$CATEGORY" \
    --methods none,cutpaste,cutswap --protocol offline "${BENCH_ARGS[@]}" --out "$WORK/bench" --no-progress
  local rc=$?
  if [ -f "$WORK/bench/results.json" ]; then cp "$WORK/bench/results.json" "$LOGS/results.json"; fi
  find "$WORK/bench" -name run.json -o -name history.csv 2>/dev/null | while read -r f; do   # the runs' records, for the summary
    mkdir -p "$LOGS/runs/$(dirname "${f#$WORK/bench/}")"; cp "$f" "$LOGS/runs/${f#$WORK/bench/}"; done
  return $rc
}

limit() { local l=$(( $(left) - 15 )); echo $(( $1 < l ? $1 : l )); }   # 15 s kept for the summary
for s in ${STEPS//,/ }; do
  case $s in
    1) run_step 1 "nbdev-test --flags cuda" "$(limit $LIMIT_TEST)" "$LOGS/tests.log" step1 ;;
    2) run_step 2 "CPU against CUDA" "$(limit $LIMIT_CMP)" "$LOGS/compare.log" step2 ;;
    3) run_step 3 "training throughput" "$(limit $LIMIT_TP)" "$LOGS/throughput.log" step3 ;;
    4) RESERVE=0; case ",${STEPS#*4}," in *,1,*) RESERVE=$LIMIT_TEST ;; esac   # step 1 still to come: keep its time
       MAY_STOP=$((1 - DRY)) run_step 4 "paper budget on $CATEGORY" "$(limit $(( $(left) - RESERVE )))" "$LOGS/bench.log" step4 ;;
    *) die "unknown step $s (steps are 1, 2, 3, 4)" ;;
  esac
done

# ---------------------------------------------------------------- summary (the archive of the logs: on exit)
summarize || FAILED=1
say "done in $(elapsed) s: $OUTDIR/summary.md, summary.json and $(basename "$ARCHIVE")$([ $FAILED = 1 ] && echo ' (FAILED: see above)')"
exit $FAILED
