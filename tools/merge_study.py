"""Fold the rows of GPU windows (or any `cutswap bench` results.json) into a committed study folder.

    python tools/merge_study.py results/paper-budget WINDOW.json [WINDOW2.json ...] [--prefer new|old]
    python tools/merge_study.py results/paper-budget ../shared/results/gpu-h200-2026-12/bottle_seed0_results.json \
        --set commit=4c5f24b --set source=gpu-h200-2026-12 --history offline/seed0/bottle/cutpaste=bottle_seed0_cutpaste_history.csv

Writes DEST/results.json (atomically, only when something changed) and DEST/history/<run>.csv for the training histories
that come with the rows (a window's file carries them; --history adds one by hand). Every row keeps or gets a
`provenance` (GPU, torch version, date from the row; commit and the rest from the window or --set). Two rows with the
same key and different numbers are refused unless --prefer says which to keep; merging the same rows again changes
nothing. Only successful rows are folded in (--rows-with KEY=VALUE keeps only rows with that field, e.g. method=none).
"""
import argparse, json, sys
from pathlib import Path

from cutswap_nb.benchmark import MergeConflict, merge_study
from cutswap_nb.core import write_text_atomic

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('dest'); p.add_argument('files', nargs='+')
    p.add_argument('--prefer', choices=('new', 'old'), default=None)
    p.add_argument('--set', action='append', default=[], metavar='KEY=VALUE', help='provenance for rows without their own')
    p.add_argument('--rows-with', action='append', default=[], metavar='KEY=VALUE', help='fold in only rows with this field value')
    p.add_argument('--history', action='append', default=[], metavar='RUN=CSV', help='a training history: offline/seed0/bottle/cutpaste=file.csv')
    a = p.parse_args(argv)
    prov = dict(kv.split('=', 1) for kv in a.set)
    want = [kv.split('=', 1) for kv in a.rows_with]
    keep = lambda r: r.get('status') == 'ok' and all(str(r.get(k)) == v for k, v in want)
    try: n = merge_study(a.dest, a.files, a.prefer, prov, keep)
    except MergeConflict as e: print(f"merge_study: {e}", file=sys.stderr); return 1
    for hv in a.history:
        run, csv = hv.split('=', 1); out = (Path(a.dest)/'history'/run).with_suffix('.csv')
        if not out.exists(): write_text_atomic(Path(csv).read_text(), out); n['histories'] += 1
    print(f"{a.dest}: {n['rows']} rows ({n['added']} added, {n['same']} already there, {n['replaced']} replaced, {n['kept']} kept old); "
          f"{n['histories']} training histories written")
    return 0

if __name__ == '__main__': sys.exit(main())
