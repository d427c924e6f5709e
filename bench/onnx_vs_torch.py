"""Scoring with the ONNX export (onnxruntime) against the PyTorch detector, per image, on the CPU.

Both paths start from the image files: PyTorch reads them with `Detector.load_images` and scores with
`Detector.score`; the export reads them with `onnx_scorer.graph_window` and scores with onnxruntime.
Also timed: each model alone on inputs already read. Same thread count for both (OMP_NUM_THREADS, default 1).
Prints ms per image and the ratio onnxruntime / PyTorch (below 1: the export is faster).

    OMP_NUM_THREADS=1 .venv/bin/python bench/onnx_vs_torch.py [--root ../shared/data/mvtec_ad] [--category bottle]

Without the dataset it runs on a generated toy category.
"""
import argparse, contextlib, io, os, tempfile, time
from pathlib import Path

import numpy as np
import torch
from cutswap_nb.data import make_toy_category
from cutswap_nb.detector import Detector, list_images
from cutswap_nb.deploy import export_graph, graph_meta, write_meta
from cutswap_nb.onnx_scorer import OnnxDetector

p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument('--root', default='../shared/data/mvtec_ad'); p.add_argument('--category', default='bottle')
p.add_argument('--size', type=int, default=256); p.add_argument('--crop', type=int, default=224)
p.add_argument('--coreset', type=float, default=0.01); p.add_argument('--images', type=int, default=24, help='test images timed')
p.add_argument('--batch-size', type=int, default=8); p.add_argument('--repeats', type=int, default=3)
a = p.parse_args()
threads = int(os.environ.get('OMP_NUM_THREADS', 1)); torch.set_num_threads(threads)
tmp = Path(tempfile.mkdtemp())
cdir = Path(a.root)/a.category
if not (cdir/'train'/'good').is_dir():
    print(f"{cdir} not found: using a generated toy category"); a.category = 'toy'
    cdir = make_toy_category(tmp/'data', n_train=20, n_test_good=12, n_test_defect=3, size=160)
det = Detector.fit(cdir/'train'/'good', 'random', coreset=a.coreset, size=a.size, crop=a.crop, device='cpu', batch_size=a.batch_size)
path = write_meta(export_graph(det, tmp/'model.onnx'), graph_meta(det))
od = OnnxDetector.load(path, threads=threads)
files = list_images(cdir/'test')[:a.images]
x_t, x_o = det.load_images(files), od.graph_inputs(files)

def per_image(f): t0 = time.perf_counter(); f(); return (time.perf_counter() - t0) / len(files)
def torch_model(): [det.pc.predict(x_t[s:s + a.batch_size]) for s in range(0, len(x_t), a.batch_size)]
res = {k: [] for k in ('PyTorch, from files', 'onnxruntime, from files', 'PyTorch, model only', 'onnxruntime, model only')}
for _ in range(a.repeats):
    res['PyTorch, from files'].append(per_image(lambda: [det.score(files[s:s + a.batch_size]) for s in range(0, len(files), a.batch_size)]))
    res['onnxruntime, from files'].append(per_image(lambda: od.score(files, a.batch_size)))
    res['PyTorch, model only'].append(per_image(torch_model))
    res['onnxruntime, model only'].append(per_image(lambda: od.score(x_o, a.batch_size)))
best = {k: min(v) for k, v in res.items()}
s_t, s_o = det.score(files)[0].numpy(), od.score(files, a.batch_size)[0]
print(f"{a.category} {a.size}->{a.crop} px, bank {tuple(det.pc.memory_bank.shape)}, {len(files)} images, batch {a.batch_size}, "
      f"{threads} thread(s), best of {a.repeats}; largest relative score difference {np.max(np.abs(s_o - s_t) / s_t):.1e}")
print('ms per image: ' + ', '.join(f'{k} {1e3 * v:.1f}' for k, v in best.items()))
print(f"ratio onnxruntime / PyTorch: from files {best['onnxruntime, from files'] / best['PyTorch, from files']:.2f}x, "
      f"model only {best['onnxruntime, model only'] / best['PyTorch, model only']:.2f}x")
