"""Copy what a `cutswap bench` study produced into the repository's `results/` folder, without weights.

    python tools/collect_study.py runs/study results/study

Writes DEST/results.json (every row, with per-image scores), DEST/results.md and its figures, and one
training history per run as DEST/history/<protocol>/seed<S>/<categories>/<method>.csv (from the run's
history.csv, or from its checkpoint for runs that predate history.csv).
"""
import json, shutil, sys
from pathlib import Path

from cutswap_nb.train import load_checkpoint, write_history_csv

def collect(runs, dest):
    runs, dest = Path(runs), Path(dest); dest.mkdir(parents=True, exist_ok=True)
    for f in ['results.json', 'results.md', *[p.name for p in runs.glob('results_coreset*.png')]]:
        if (runs/f).is_file(): shutil.copy2(runs/f, dest/f)
    n = 0
    for final in sorted((runs/'train').glob('*/seed*/*/*/final.pth')):
        run = final.parent; rel = run.relative_to(runs/'train')
        out = (dest/'history'/rel).with_suffix('.csv')
        out.parent.mkdir(parents=True, exist_ok=True)
        if (run/'history.csv').is_file(): shutil.copy2(run/'history.csv', out)
        else:
            ck = load_checkpoint(final)
            write_history_csv(ck['history'], out, ck.get('meta', {}).get('steps_per_epoch'))
        n += 1
    rows = json.loads((dest/'results.json').read_text())['rows'] if (dest/'results.json').is_file() else []
    print(f"{dest}: {len(rows)} result rows, {n} training histories")

if __name__ == '__main__': collect(*sys.argv[1:3])
