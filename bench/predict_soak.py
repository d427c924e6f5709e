"""Soak benchmark of `cutswap predict` (issue #19): thousands of small images, memory, speed against eval, kill -9 and resume.

Generates N small PNGs (plus one corrupt file per 500, which must land in errors.csv), fits a tiny detector
(random ResNet18, layer1+layer2, SIZE px) and checks three things, printing each number and its goal:

1. memory: a child process runs `predict_images` over all images (no DataLoader workers, so that its own peak RSS
   is the whole run's) and records its peak RSS after every batch; the peak at the end must be within 10 % of the
   peak after the first 1000 images;
2. speed: the same child's time per image, against eval's: reading the same files and `Detector.score` on them, as
   `cutswap eval` does (scoring alone, on images already in memory, is printed too); goal: at most 1.2x;
3. resume: `cutswap predict` (the real command, default workers) killed with SIGKILL at random moments KILLS
   times (at a random row of the work left, or one time in four at a random moment of the start-up), each followed by a
   restart; the last restart runs to the end. Every image must then be listed exactly once in scores.csv + errors.csv,
   with the scores of the uninterrupted run of step 1 (within 1e-3 relative: see below).

Not a timed test: it prints numbers and PASS/FAIL, and exits 1 on a FAIL.

    OMP_NUM_THREADS=1 nice .venv/bin/python bench/predict_soak.py                 # 5000 images, 5 kills (a few minutes)
    OMP_NUM_THREADS=1 nice .venv/bin/python bench/predict_soak.py --n 1200 --kills 2   # a quick run
"""
import argparse, csv, io, json, os, random, shutil, signal, subprocess, sys, tempfile, time
from pathlib import Path

import numpy as np
from PIL import Image

p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument('--n', type=int, default=5000, help='images to generate (>= 1000 for the memory check)')
p.add_argument('--size', type=int, default=32, help='side of the images and of the detector input')
p.add_argument('--kills', type=int, default=5, help='kill -9 + restart cycles')
p.add_argument('--batch-size', type=int, default=32, help="predict's --batch-size (images per batch and per append)")
p.add_argument('--seed', type=int, default=0)
p.add_argument('--work', default=None, help='working folder (default: a new temporary one, removed at the end)')
a = p.parse_args()
rng = random.Random(a.seed)
work = Path(a.work or tempfile.mkdtemp(prefix='predict_soak_')); work.mkdir(parents=True, exist_ok=True)
cutswap = str(Path(sys.executable).parent/'cutswap')
env = dict(os.environ, OMP_NUM_THREADS=os.environ.get('OMP_NUM_THREADS', '1'))

# --- data and detector
t0 = time.perf_counter()
imgs = work/'images'
g = np.random.default_rng(a.seed)
base = g.integers(60, 200, (a.size, a.size, 3))
for i in range(a.n):
    f = imgs/f'{i // 1000:02d}'/f'{i:05d}.png'; f.parent.mkdir(parents=True, exist_ok=True)
    if i % 500 == 499: f.write_bytes(b'\x89PNG\r\n\x1a\n corrupt'); continue
    Image.fromarray(np.clip(base + g.normal(0, 12, base.shape), 0, 255).astype(np.uint8)).save(f)
n_bad = sum(1 for i in range(a.n) if i % 500 == 499)
print(f"{a.n} images of {a.size} px ({n_bad} corrupt) in {imgs}: {time.perf_counter() - t0:.1f}s")

from cutswap_nb.detector import Detector, list_images, read_rows, SCORES_HEADER, ERRORS_HEADER
model = work/'soak.detector'
train = [p for p in list_images(imgs) if p.stat().st_size > 100][:20]
Detector.fit(train, 'random', size=a.size, crop=a.size, coreset=0.1, layers=('layer1', 'layer2'), device='cpu').save(model)

# --- 1 and 2: one uninterrupted run in a child process, sampling its peak RSS per batch; then eval's time per image
child = f"""
import json, resource, time, torch
import cutswap_nb.detector as d
det = d.Detector.load({str(model)!r}, 'cpu')
samples, orig = [], d.append_rows
def append(path, rows, *a):
    orig(path, rows, *a)
    samples.append((path.name, len(rows), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
d.append_rows = append
t0 = time.perf_counter()
n = d.predict_images(det, {str(imgs)!r}, {str(work/'full')!r}, batch_size={a.batch_size}, num_workers=0, progress=False)
predict_s = time.perf_counter() - t0
d.append_rows = orig   # samples of the first run only
# speed: the same 2000 images, three rounds of eval / predict reading in the main process / predict with its default workers
paths = [p for p in d.list_images({str(imgs)!r}) if p.stat().st_size > 100][:2000]
x = det.load_images(paths)
t = dict(eval=[], eval_read=[], w0=[], workers=[])
for rep in range(3):
    t0 = time.perf_counter(); det.score(x); t['eval'].append(time.perf_counter() - t0)
    t0 = time.perf_counter(); det.score(det.load_images(paths)); t['eval_read'].append(time.perf_counter() - t0)   # eval's path: read, then score
    for k, w in (('w0', 0), ('workers', None)):
        t0 = time.perf_counter()
        d.predict_images(det, paths, {str(work)!r} + f'/speed_{{k}}_{{rep}}', batch_size={a.batch_size}, num_workers=w, progress=False)
        t[k].append(time.perf_counter() - t0)
print(json.dumps(dict(n=n, run_s=predict_s, predict_s=min(t['w0']), workers_s=min(t['workers']), workers=d.predict_workers(len(paths)),
                      eval_s=min(t['eval']), eval_read_s=min(t['eval_read']), eval_n=len(paths), samples=samples, threads=torch.get_num_threads())))
"""
r = subprocess.run([sys.executable, '-c', child], capture_output=True, text=True, env=env)
if r.returncode: sys.exit(f"the uninterrupted run failed:\n{r.stderr[-3000:]}")
res = json.loads(r.stdout.strip().splitlines()[-1])
n = res['n']
seen, rss_1000, rss_end, trail = 0, None, None, {}
for name, k, rss in res['samples']:
    seen += k
    if rss_1000 is None and seen >= 1000: rss_1000 = rss
    trail.setdefault(seen // 1000 * 1000, rss); rss_end = rss
growth = rss_end / rss_1000 - 1 if rss_1000 else float('nan')
predict_ms, eval_ms = 1e3 * res['predict_s'] / res['eval_n'], 1e3 * res['eval_s'] / res['eval_n']
workers_ms, eval_read_ms = 1e3 * res['workers_s'] / res['eval_n'], 1e3 * res['eval_read_s'] / res['eval_n']
ok_mem, ok_speed = growth < 0.10, workers_ms / eval_read_ms <= 1.2
print(f"uninterrupted run: {n}")
print(f"1. peak RSS after 1000 images {rss_1000 / 1024:.0f} MB, at the end ({n['images']} images) {rss_end / 1024:.0f} MB: "
      f"growth {100 * growth:+.1f} % (goal < 10 %) {'PASS' if ok_mem else 'FAIL'}; peak RSS by images done: "
      + ', '.join(f'{k}: {v / 1024:.0f} MB' for k, v in trail.items()))
print(f"2. per image, {res['threads']} torch thread(s), best of 3 on the same {res['eval_n']} images: eval {eval_read_ms:.2f} ms "
      f"(reading the files, then Detector.score, as cutswap eval does); "
      f"predict (reading, preprocessing, scoring, CSV writes) {workers_ms:.2f} ms with its default {res['workers']} DataLoader worker(s): "
      f"ratio {workers_ms / eval_read_ms:.2f}x (goal <= 1.2x) {'PASS' if ok_speed else 'FAIL'}; reading in the main process (--workers 0): "
      f"{predict_ms:.2f} ms, {predict_ms / eval_read_ms:.2f}x; scoring alone (images already in memory): {eval_ms:.2f} ms, "
      f"so predict is {workers_ms / eval_ms:.2f}x of that")

# --- 3: kill -9 at random moments, restart, and check every image once with the uninterrupted run's scores
out = work/'killed'
cmd = [cutswap, 'predict', '--model', str(model), '--images', str(imgs), '--out', str(out), '--batch-size', str(a.batch_size), '--quiet']
kills, finished_early = 0, 0
n['scores_todo'] = n['scored']
out.mkdir(parents=True, exist_ok=True); read_rows(out/'scores.csv', SCORES_HEADER)   # the header: growth below means rows
for cycle in range(a.kills):
    done = len(read_rows(out/'scores.csv', SCORES_HEADER)) if (out/'scores.csv').exists() else 0
    n_lines = lambda: (out/'scores.csv').read_bytes().count(b'\n') - 1   # rows (the generated paths hold no newline)
    at_startup = rng.random() < 0.25
    target = done + 1 + int(rng.random() * 0.9 * (n['scores_todo'] - done))   # a random row of the work left
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    t_start = time.perf_counter()
    if at_startup:   # a random moment of the start-up: imports, loading, reading and rewriting the CSVs
        try: proc.wait(timeout=rng.uniform(0, 4))
        except subprocess.TimeoutExpired: pass
    else:
        while proc.poll() is None and n_lines() < target: time.sleep(0.005)
    if proc.poll() is None: proc.send_signal(signal.SIGKILL)
    proc.wait(); delay = time.perf_counter() - t_start
    if proc.returncode == -signal.SIGKILL: kills += 1
    else: finished_early += 1
    rows = read_rows(out/'scores.csv', SCORES_HEADER) if (out/'scores.csv').exists() else []
    print(f"   cycle {cycle + 1}: after {delay:.1f}s {'killed' if proc.returncode == -signal.SIGKILL else f'exited {proc.returncode}'}, "
          f"{len(rows)} rows in scores.csv")
t0 = time.perf_counter()
last = subprocess.run(cmd, capture_output=True, text=True, env=env)
print(f"   last restart: exit {last.returncode} in {time.perf_counter() - t0:.1f}s: {last.stdout.strip().splitlines()[0] if last.stdout.strip() else last.stderr[-500:]}")
rows, errs = read_rows(out/'scores.csv', SCORES_HEADER), read_rows(out/'errors.csv', ERRORS_HEADER)
listed = [r['path'] for r in rows] + [e['path'] for e in errs]
want = sorted(os.path.abspath(p) for p in list_images(imgs))
full = {r['path']: float(r['score']) for r in read_rows(work/'full'/'scores.csv', SCORES_HEADER)}
rel = [abs(float(r['score']) - full[r['path']]) / abs(full[r['path']]) for r in rows if r['path'] in full]
same = sum(float(r['score']) == full.get(r['path']) for r in rows)
ok_once = sorted(listed) == want and len(listed) == len(set(listed)) and len(errs) == n_bad
# After a restart the batches fall differently, and faiss's float32 search (CPU) is not batch-invariant: ||q||^2 + ||b||^2 - 2 q.b
# computed with another GEMM blocking differs by up to ~1.5e-4 relative on these features (the torch search gives identical
# scores for any batching). So the goal is 1e-3 relative, not identity.
ok_scores = len(rel) == len(rows) == len(full) and max(rel) <= 1e-3
print(f"3. {kills} kill -9 ({finished_early} runs ended before their kill) + restarts: {len(rows)} scored + {len(errs)} unreadable = "
      f"{len(listed)} rows for {len(want)} images, {len(listed) - len(set(listed))} duplicates: {'PASS' if ok_once else 'FAIL'}; "
      f"scores as in the uninterrupted run: {same}/{len(rows)} identical, largest relative difference {max(rel):.1e} (goal <= 1e-3) "
      f"{'PASS' if ok_scores else 'FAIL'}")
if not a.work: shutil.rmtree(work)
sys.exit(0 if ok_mem and ok_speed and ok_once and ok_scores and last.returncode == 0 else 1)
