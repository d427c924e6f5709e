"""`cutswap predict` against `cutswap eval`'s predict step, per image, on the CPU.

eval scores a preloaded tensor; predict reads each file, preprocesses it, scores it and appends the rows to
scores.csv. Goal (issue #9): predict within 1.5x of eval per image. Prints both and the ratio.

    OMP_NUM_THREADS=1 .venv/bin/python bench/predict_vs_eval.py [--root ../shared/data/mvtec_ad] [--category bottle]
"""
import argparse, tempfile, time
from pathlib import Path

import torch
from cutswap_nb.detector import Detector, load_splits, predict_images

p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument('--root', default='../shared/data/mvtec_ad'); p.add_argument('--category', default='bottle')
p.add_argument('--size', type=int, default=128); p.add_argument('--crop', type=int, default=112)
p.add_argument('--repeats', type=int, default=3)
a = p.parse_args()
root = Path(a.root)
tr, te = load_splits(root, a.category, a.size, a.crop, progress=False)
det = Detector.fit(tr['image'], 'random', size=a.size, crop=a.crop, device='cpu')
res = {'eval': [], 'predict (0 workers)': [], 'predict (1 worker)': []}
for _ in range(a.repeats):
    t0 = time.perf_counter(); det.score(te['image']); res['eval'].append((time.perf_counter() - t0) / len(te['image']))
    for w in (0, 1):
        t0 = time.perf_counter()
        n = predict_images(det, root/a.category/'test', tempfile.mkdtemp(), num_workers=w, progress=False)
        res[f"predict ({w} worker{'s' if w != 1 else ''})"].append((time.perf_counter() - t0) / n['images'])
best = {k: min(v) for k, v in res.items()}
print(f"{a.category} {a.size}->{a.crop} px, {torch.get_num_threads()} thread(s), best of {a.repeats}, ms per image: "
      + ', '.join(f'{k} {1e3 * v:.1f}' for k, v in best.items()))
print('ratio to eval: ' + ', '.join(f"{k} {v / best['eval']:.2f}x" for k, v in best.items() if k != 'eval') + ' (goal: <= 1.5x)')
