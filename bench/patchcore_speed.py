"""PatchCore fit + predict time against the bare backbone forward pass over the same images, as a ratio.

    OMP_NUM_THREADS=2 .venv/bin/python bench/patchcore_speed.py                       # bottle, 256 -> 224 px, coreset 0.01
    .venv/bin/python bench/patchcore_speed.py --embedding reference --compare-dense --repeat 2

The reference is what no PatchCore can avoid: running the ResNet18 to layer3 over the training and
test images (same batches, device and memory format as PatchCore). The ratio (fit + predict) / forward
says what PatchCore adds on top of it: patch features, coreset, nearest-neighbour search, maps.
Goal (issue #12): at most 2x on the CPU. `--compare-dense` also runs the dense coreset selection
(one pass over the whole projected bank per pick, the earlier CPU path) on the same features, and
prints both AUROCs: the two are the same greedy rule, so they must agree (within 0.004).
Timings on a shared machine vary; the ratio is measured back to back in one process, `--repeat` times.
"""
from __future__ import annotations
import argparse, os, sys, time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--root', default=str(REPO.parent/'shared'/'data'/'mvtec_ad'))
    p.add_argument('--category', default='bottle')
    p.add_argument('--size', type=int, default=256)
    p.add_argument('--crop', type=int, default=224)
    p.add_argument('--coreset', type=float, default=0.01)
    p.add_argument('--embedding', default='anomalib', choices=['anomalib', 'reference'])
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--batch-size', type=int, default=16)
    p.add_argument('--device', default='cpu')
    p.add_argument('--repeat', type=int, default=1, help='measure forward and fit+predict this many times, alternating')
    p.add_argument('--compare-dense', action='store_true', help='also select the coreset densely on the same features and compare AUROCs')
    a = p.parse_args(argv)

    import torch
    from cutswap_nb.core import device_name
    from cutswap_nb.data import load_dataset, load_tensors
    from cutswap_nb.models import build_model
    from cutswap_nb.metrics import compute_metrics
    from cutswap_nb.patchcore import PatchCore, layer_features, greedy_coreset, coreset_size

    train = load_tensors(load_dataset(a.root, a.category, 'train', a.size, a.crop), progress=False)
    test = load_tensors(load_dataset(a.root, a.category, 'test', a.size, a.crop), progress=False)
    images = torch.cat([train['image'], test['image']])
    pc = PatchCore(build_model('resnet18', 'random', a.seed), coreset_ratio=a.coreset, seed=a.seed, device=a.device,
                   batch_size=a.batch_size, embedding=a.embedding)
    print(f"{a.category}: {len(train['image'])} train + {len(test['image'])} test images at {a.crop} px, coreset {a.coreset}, "
          f"embedding {a.embedding}, {device_name(pc.device)}, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")

    def sync():
        if pc.device.type == 'cuda': torch.cuda.synchronize(pc.device)

    @torch.inference_mode()
    def forward():
        sync(); t0 = time.perf_counter()
        for s in range(0, len(images), a.batch_size):
            x = images[s:s + a.batch_size].to(pc.device).float().contiguous(memory_format=torch.channels_last)
            layer_features(pc.backbone, x, pc.layers)
        sync(); return time.perf_counter() - t0

    forward()   # warm-up: one-time kernel and allocator set-up belongs to neither timing
    for r in range(a.repeat):
        t_fwd = forward()
        t0 = time.perf_counter(); pc.fit(train['image']); t1 = time.perf_counter()
        scores, maps = pc.predict(test['image']); t2 = time.perf_counter()
        m = compute_metrics(test['label'], scores, test['mask'], maps)
        fi = pc.fit_info
        print(f"[{r}] forward {t_fwd:.2f}s | fit {t1 - t0:.2f}s (features {fi['embed_seconds']:.2f}s, coreset {fi['coreset_seconds']:.2f}s "
              f"for {fi['bank_size']} of {fi['n_patches']} patches) + predict {t2 - t1:.2f}s = {t2 - t0:.2f}s "
              f"| ratio (fit + predict) / forward = {(t2 - t0) / t_fwd:.2f}x | image AUROC {m['image_auroc']:.4f}, pixel AUROC {m['pixel_auroc']:.4f}")
    if a.compare_dense:
        feats = pc.embed(train['image']); feats = feats.permute(0, 2, 3, 1).reshape(-1, feats.shape[1])
        n, starts = coreset_size(len(feats), a.coreset), (10 if a.embedding == 'reference' else 0)
        res = {}
        for alg in ('pruned', 'dense'):
            t0 = time.perf_counter(); idx = greedy_coreset(feats, n, pc.proj_dim, a.seed, starts=starts, algorithm=alg); t = time.perf_counter() - t0
            pc._set_bank(feats[idx].cpu().clone())
            s, mp = pc.predict(test['image'])
            res[alg] = compute_metrics(test['label'], s, test['mask'], mp)
            print(f"coreset {alg:6s}: {t:.2f}s, image AUROC {res[alg]['image_auroc']:.4f}, pixel AUROC {res[alg]['pixel_auroc']:.4f}")
        di = abs(res['pruned']['image_auroc'] - res['dense']['image_auroc']); dp = abs(res['pruned']['pixel_auroc'] - res['dense']['pixel_auroc'])
        print(f"|AUROC difference| pruned vs dense: image {di:.4f}, pixel {dp:.4f} ({'within' if max(di, dp) <= 0.004 else 'NOT within'} 0.004)")
    return 0


if __name__ == '__main__':
    sys.exit(main())
