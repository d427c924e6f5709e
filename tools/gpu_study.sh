#!/usr/bin/env bash
# One window of the paper-budget study (issue #18): the missing (category, seed) cells of results/paper-budget/, in the
# design's fixed order (cutswap_nb.benchmark.STUDY_DESIGN), each started only if it fits in the time left, each written
# whole. Three modes:
#
#   bash tools/gpu_study.sh --prepare            # HERE: pack the data the next cells need, the two wheels and a manifest
#                                                #   into .gpu-data/study/ (ignored), and check the trip fits in 64 MiB
#   bash tools/gpu_study.sh --budget 480         # THERE (GPU machine, carry .gpu-data/study): unpack, run one window;
#                                                #   writes $OUT/window.json (rows + histories) and $OUT/gpu_study.log
#   bash tools/gpu_study.sh --dry-run            # HERE, CPU: the whole path on toy data and tiny sizes, from a copy of
#                                                #   exactly what would travel; two windows, merged (a minute or two)
#
# Then, here:  python tools/merge_study.py results/paper-budget <fetched>/window.json
#
# The data travel as lossless packs (tools/pack_data.py: PNGs as lossless WebP, pixels checked on unpacking) and are
# unpacked into /tmp/cutswap-study-data, which a warm machine keeps between calls (a category already unpacked from the
# same pack is not unpacked again). Only fastcore and fastprogress travel as wheels: the GPU image has the rest.
# --budget counts the whole call (set-up included); the window gets what is left less a 20 s reserve, and a hard
# `timeout` stops it at the budget (rows of finished cells are on disk already; a cell cut off leaves nothing).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

MODE=run; BUDGET=480; OUTDIR="${OUT:-build/gpu-study}"; STUDY=results/paper-budget; PACKS=.gpu-data/study
SRC=../shared/data/mvtec_ad; DATA=""; DATADIR=/tmp/cutswap-study-data; WORK=""; CATS=""; KEEP=0; EXTRA=()
usage() { sed -n '2,/^set -uo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; cat <<'EOF'
Options:
  --prepare            pack data, wheels and manifest into --packs (here, before a GPU call)
  --dry-run            the whole path on the CPU, toy data, tiny sizes, from a copy of what travels
  --budget SECONDS     the whole call's budget (default 480)
  --out DIR            where window.json and gpu_study.log go (default: $OUT, else build/gpu-study)
  --study DIR          the committed study (default results/paper-budget)
  --packs DIR          packs, wheels and manifest (default .gpu-data/study)
  --src DIR            --prepare: the dataset root to pack from (default ../shared/data/mvtec_ad)
  --categories LIST    --prepare: pack these (default: the categories of the missing cells, in order, while they fit)
  --data DIR           run on this dataset root instead of unpacking packs
  --work DIR           scratch: installed wheels, training runs (default: a new /tmp folder)
  --keep               keep the scratch folder
  -- ARGS              passed on to `cutswap bench` (e.g. tiny sizes)
EOF
}
while [ $# -gt 0 ]; do
  case "$1" in
    --prepare) MODE=prepare ;;
    --dry-run) MODE=dry ;;
    --budget) BUDGET="$2"; shift ;;
    --out) OUTDIR="$2"; shift ;;
    --study) STUDY="$2"; shift ;;
    --packs) PACKS="$2"; shift ;;
    --src) SRC="$2"; shift ;;
    --categories) CATS="$2"; shift ;;
    --data) DATA="$2"; shift ;;
    --data-dir) DATADIR="$2"; shift ;;
    --work) WORK="$2"; shift ;;
    --keep) KEEP=1 ;;
    --) shift; EXTRA=("$@"); break ;;
    -h|--help) usage; exit 0 ;;
    *) echo "gpu_study: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
PY="${PYTHON:-}"
if [ -z "$PY" ]; then if [ -x .venv/bin/python ]; then PY=$ROOT/.venv/bin/python; else PY=python3; fi; fi
START=$(date +%s)
elapsed() { echo $(( $(date +%s) - START )); }
LIMIT=$(( 64 * 1024 * 1024 ))

# The size of what a device call carries: tracked and untracked-not-ignored files, plus the packs folder.
trip_bytes() {
  local tree packs
  tree=$(git ls-files -co --exclude-standard -z 2>/dev/null | xargs -0 -r stat -c %s 2>/dev/null | awk '{s+=$1} END {print s+0}')
  packs=$(find "$PACKS" -type f -printf '%s\n' 2>/dev/null | awk '{s+=$1} END {print s+0}')
  echo "$tree $packs"
}

# ------------------------------------------------------------------------------------------------ --prepare (here)
if [ $MODE = prepare ]; then
  CACHE=$(dirname "$PACKS")/pack-cache; mkdir -p "$PACKS/whl" "$CACHE"
  if [ -z "$CATS" ]; then   # the categories of the missing cells, in the study's order
    CATS=$("$PY" - "$STUDY" <<'EOF'
import json, sys
from pathlib import Path
from cutswap_nb.benchmark import study_configs, study_cells
f = Path(sys.argv[1])/'results.json'
rows = json.loads(f.read_text())['rows'] if f.is_file() else []
cfg, ref = study_configs('unused', 'unused')
print(','.join(dict.fromkeys(c for job, _ in study_cells(cfg, ref, rows) for c in job.categories)))
EOF
) || { echo "gpu_study: cannot read the study $STUDY" >&2; exit 2; }
  fi
  [ -n "$CATS" ] || { echo "gpu_study: every cell of $STUDY is done: nothing to pack"; exit 0; }
  echo "categories with missing cells, in order: $CATS"
  rm -f "$PACKS"/*.tar
  for w in fastcore fastprogress; do   # the two packages the GPU image lacks
    f=$(ls .whl/$w-*.whl 2>/dev/null | head -n 1)
    if [ -n "$f" ]; then cp "$f" "$PACKS/whl/"
    else "$PY" -m pip download -q --no-deps --only-binary=:all: -d "$PACKS/whl" "$w==$("$PY" -c "import $w; print($w.__version__)")" || exit 2; fi
  done
  for c in ${CATS//,/ }; do
    cache=$CACHE/$c.tar
    if [ ! -f "$cache" ] || [ -n "$(find "$SRC/$c" -newer "$cache" -print -quit)" ]; then
      "$PY" tools/pack_data.py pack "$SRC" "$c" --dest "$CACHE" || exit 2
    fi
    ln -f "$cache" "$PACKS/$c.tar" 2>/dev/null || cp "$cache" "$PACKS/$c.tar"
    read -r tree packs < <(trip_bytes)
    if [ $(( tree + packs )) -gt $(( LIMIT - 1024 * 1024 )) ]; then
      rm -f "$PACKS/$c.tar"; echo "  $c: left out, it would take the trip over 63 MiB"; break
    fi
    echo "  $c: $(( $(stat -c %s "$PACKS/$c.tar") / 1024 )) KiB packed, from $(du -sk "$SRC/$c" | cut -f1) KiB"
  done
  commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
  [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] && commit="$commit+dirty"
  "$PY" - "$PACKS" "$commit" <<'EOF'
import json, sys, time
from pathlib import Path
p = Path(sys.argv[1])
json.dump(dict(commit=sys.argv[2], prepared=time.strftime('%Y-%m-%d %H:%M:%S'), packs={f.name: f.stat().st_size for f in sorted(p.glob('*.tar'))},
               wheels=sorted(f.name for f in (p/'whl').glob('*.whl'))), open(p/'manifest.json', 'w'), indent=1)
EOF
  read -r tree packs < <(trip_bytes)
  echo "trip: tree $(( tree / 1024 )) KiB + $PACKS $(( packs / 1024 )) KiB = $(( (tree + packs) / 1024 )) KiB of $(( LIMIT / 1024 )) KiB"
  echo "device call: run(command='bash tools/gpu_study.sh --budget $BUDGET', carry=['$PACKS'], timeout_s=$(( BUDGET + 60 )))"
  echo "then:        python tools/merge_study.py $STUDY <files_at>/window.json"
  exit 0
fi

# ------------------------------------------------------------------------------------------------ --dry-run (here)
if [ $MODE = dry ]; then
  if [ -z "$WORK" ]; then WORK=$(mktemp -d /tmp/gpu-study-dry.XXXXXX); else mkdir -p "$WORK"; fi
  WORK=$(cd "$WORK" && pwd); [ $KEEP = 1 ] || trap 'rm -rf "$WORK"' EXIT
  mkdir -p "$OUTDIR"; OUTDIR=$(cd "$OUTDIR" && pwd)
  echo "dry run: toy data packed, what would travel copied to $WORK/trip, two windows, merged"
  "$PY" -c "from cutswap_nb.data import make_toy_category as m; m('$WORK/src', 'toy', n_train=12, n_test_good=4, n_test_defect=2, size=64)" || exit 2
  TRIP=$WORK/trip; mkdir -p "$TRIP"
  git ls-files -co --exclude-standard -z | (cd "$ROOT" && xargs -0 -r cp --parents -t "$TRIP" 2>/dev/null); true
  bash tools/gpu_study.sh --prepare --src "$WORK/src" --categories toy --packs "$TRIP/.gpu-data/study" | sed 's/^/  prepare: /' || exit 2
  [ -f "$TRIP/.gpu-data/study/toy.tar" ] || { echo "gpu_study: the dry run's prepare made no pack" >&2; exit 2; }
  rm -rf "$TRIP/.gpu-data/pack-cache" "$TRIP/.git"   # what travels: the tree and the packs folder
  echo "  travels: $(du -sk "$TRIP" | cut -f1) KiB in $(find "$TRIP" -type f | wc -l) files"
  mkdir -p "$WORK/study"            # an empty study: the toy cells are all missing
  TINY=(--categories toy --coreset 0.1 --epochs 1 --batch-size 8 --size 64 --crop 64 --device cpu --levels 0,4)
  rc=0
  for w in 1 2; do
    # window 1: the study of seed 0 only, in a budget that fits it (a prior of 0.03 s a unit: about 33 s for the
    # cell); window 2: the study of seeds 0-2, which must find seed 0 committed and run seeds 1 and 2 only. Each
    # window runs in the copy, on its own scratch folder, as the GPU machine would. (The budget's own cut-off is
    # tested in the Benchmark chapter, on a simulated clock.)
    b=$([ $w = 1 ] && echo 90 || echo 400); seeds=$([ $w = 1 ] && echo 0 || echo 0,1,2)
    (cd "$TRIP" && PYTHON="$PY" OUT="$WORK/out$w" bash tools/gpu_study.sh --budget "$b" --study "$WORK/study" --data-dir "$WORK/data" \
        --work "$WORK/work$w" -- "${TINY[@]}" --seeds "$seeds" --prior-rate 0.03) > "$WORK/window$w.log" 2>&1
    r=$?; sed 's/^/  window '"$w"': /' "$WORK/window$w.log" | grep -E 'window|unpacked|cutswap_nb from|seed|error|Error' | head -n 20
    [ -f "$WORK/out$w/window.json" ] || { echo "gpu_study: window $w wrote no window.json (rc $r)"; exit 1; }
    "$PY" tools/merge_study.py "$WORK/study" "$WORK/out$w/window.json" | sed 's/^/  merge: /' || rc=1
    cp "$WORK/out$w/window.json" "$OUTDIR/dry-window$w.json"
  done
  "$PY" - "$WORK/study/results.json" "$WORK/out1/window.json" "$WORK/out2/window.json" <<'EOF' || rc=1
import json, sys
rows = json.load(open(sys.argv[1]))['rows']
cells = [[c['seed'] for c in json.load(open(f))['window']['cells'] if c['ok']] for f in sys.argv[2:]]
assert cells == [[0], [1, 2]], f"cells done by the two windows: {cells}"
keys = sorted((r['seed'], r['method'], r['embedding']) for r in rows)
want = sorted([(s, m, 'anomalib') for s in (0, 1, 2) for m in ('none', 'cutpaste', 'cutswap')] + [(1, m, 'reference') for m in ('none', 'cutpaste', 'cutswap')])
assert keys == want, keys
assert all(r['provenance']['commit'] and r['image_scores'] for r in rows)
print(f"  dry run: window 1 did seed {cells[0]}, window 2 seeds {cells[1]}: together the whole toy study, {len(rows)} rows; "
      f"provenance {rows[0]['provenance']}")
EOF
  exit $rc
fi

# ------------------------------------------------------------------------------------------------ a window (there)
mkdir -p "$OUTDIR"; OUTDIR=$(cd "$OUTDIR" && pwd)
if [ -z "$WORK" ]; then WORK=$(mktemp -d /tmp/gpu-study.XXXXXX); else mkdir -p "$WORK"; fi
WORK=$(cd "$WORK" && pwd); [ $KEEP = 1 ] || trap 'rm -rf "$WORK"' EXIT
LOG=$OUTDIR/gpu_study.log; : > "$LOG"
say() { echo "[gpu_study $(printf '%4d' "$(elapsed)") s] $*" | tee -a "$LOG"; }
die() { say "ERROR: $*"; exit 2; }
SITE=$WORK/site
if ls "$PACKS"/whl/*.whl >/dev/null 2>&1; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$SITE" "$PACKS"/whl/*.whl >> "$LOG" 2>&1 \
    || die "installing the wheels of $PACKS/whl failed"
fi
export PYTHONPATH="$ROOT:$SITE${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 MPLBACKEND=Agg
say "$("$PY" -c 'import torch, cutswap_nb; print(f"cutswap_nb from {cutswap_nb.__file__}; torch {torch.__version__}; cuda {torch.cuda.is_available()}" + (f" ({torch.cuda.get_device_name(0)})" if torch.cuda.is_available() else ""))' 2>&1)"
if [ -z "$DATA" ]; then
  ls "$PACKS"/*.tar >/dev/null 2>&1 || die "no packs in $PACKS and no --data: run --prepare here first"
  mkdir -p "$DATADIR"; DATA=$DATADIR
  for pk in "$PACKS"/*.tar; do
    c=$(basename "$pk" .tar); stamp="$(stat -c %s "$pk") $(cksum < "$pk" | cut -d' ' -f1)"
    if [ -f "$DATA/$c/.unpacked" ] && [ "$(cat "$DATA/$c/.unpacked")" = "$stamp" ]; then say "$c: unpacked already (warm machine)"; continue; fi
    rm -rf "${DATA:?}/$c"
    "$PY" "$ROOT/tools/pack_data.py" unpack "$pk" --dest "$DATA" >> "$LOG" 2>&1 || die "$pk: unpacking failed or pixels differ (see $LOG)"
    echo "$stamp" > "$DATA/$c/.unpacked"; say "$c: unpacked and checked"
  done
fi
CATS=$(cd "$DATA" && ls -d */ 2>/dev/null | tr -d / | tr '\n' ' ')
COMMIT=$(sed -n 's/.*"commit": "\([^"]*\)".*/\1/p' "$PACKS/manifest.json" 2>/dev/null | head -n 1)
[ -n "$COMMIT" ] || COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
LEFT=$(( BUDGET - $(elapsed) - 20 ))
[ $LEFT -gt 30 ] || die "only $LEFT s of the budget left for the window"
say "window: ${LEFT} s; data $DATA ($CATS); commit $COMMIT; study $STUDY"
TO=(); command -v timeout >/dev/null && TO=(timeout -s INT -k 15 $(( LEFT + 15 )))
"${TO[@]}" "$PY" -c 'import sys; from cutswap_nb.cli import main; sys.exit(main())' bench --design paper-budget --root "$DATA" \
  --out "$WORK/runs" --time-budget "$LEFT" --study "$STUDY/results.json" --window-out "$OUTDIR/window.json" \
  --commit "$COMMIT" --no-progress "${EXTRA[@]}" 2>&1 | tee -a "$LOG"
rc=${PIPESTATUS[0]}
say "window finished: rc $rc; $OUTDIR/window.json"
exit $rc
