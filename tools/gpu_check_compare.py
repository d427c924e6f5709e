"""Step 2 of tools/gpu_check.sh: the same inputs through the CPU and the CUDA code paths, compared.

    python tools/gpu_check_compare.py --data DIR --out compare.json            # on a GPU machine, DIR/bottle
    python tools/gpu_check_compare.py --dry-run --out compare.json             # CPU only: toy data, CPU against CPU

What is compared, and how close the two must be (`TOLERANCES`):
  - LayerCAM maps (`multilevel_saliency`, five ResNet18 levels, seeded random weights; it runs in full float32,
    TF32 off, on CUDA) on both devices and in float64 on the CPU (the reference): the largest absolute difference
    of each pair, per level, and the pixels over 1e-3 are reported, not judged: the maps of the shallow levels
    jump where a ReLU input or a max-pool tie flips with rounding (chapter 03, *Float rounding and the shallow
    levels*). What is judged is what training sees (chapter 06, `candidate_agreement` / `agreement_ok`): the
    candidates of the CPU and the CUDA maps (k-means on the CPU for both, modes 'max' and 'random') agree on at
    least 99.9 % of the pixels, anchors drawn with one CPU generator seed are identical wherever the candidates
    are, and the anchor distributions are within 0.02 in total variation. CPU against float64 is shown beside it.
  - k-means (`kmeans_1d`, k = 4) of the same maps: centroids, and the share of pixels given the same cluster.
  - CutSwap negatives and scars (`make_negatives`, one CPU generator drawing for both sides): the swaps are pure
    indexing, so negatives and their changed-pixel masks must be bit-identical; the scars are rotated with
    sin/cos on the device, so a few border pixels may differ: the share that differs is judged.
  - PatchCore (`PatchCore`, seeded random ResNet18, coreset 0.01) fitted and evaluated on the category: image and
    pixel AUROC (scikit-learn's `roc_auc_score`, independent of the package's metrics) within 0.005.
With --dry-run (or without CUDA) the "CUDA" side is the CPU again: the figures then check the harness only.
Only the package's public API is used. Writes one JSON object; exits 1 when a check fails.
"""
import argparse, copy, json, sys, tempfile, time
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from cutswap_nb.data import load_dataset, load_tensors, make_toy_category
from cutswap_nb.models import build_model
from cutswap_nb.saliency import build_saliency_model, multilevel_saliency
from cutswap_nb.candidates import candidates_from_maps, candidate_agreement, agreement_ok, AGREEMENT
from cutswap_nb.cluster import kmeans_1d
from cutswap_nb.augment import make_negatives
from cutswap_nb.patchcore import PatchCore

TOLERANCES = dict(candidates=AGREEMENT, kmeans_centroid_max_abs=1e-4, kmeans_label_agreement=0.999,
                  scar_pixels_differing=1e-3, auroc_abs=0.005)

def timed(fn, *args, **kw):
    t0 = time.perf_counter(); out = fn(*args, **kw)
    if torch.cuda.is_available(): torch.cuda.synchronize()
    return out, round(time.perf_counter() - t0, 3)

def compare_layercam(images, devices):
    "Five-level LayerCAM maps of a seeded random ResNet18 on both devices and in float64; the candidates of each, compared."
    model, layers = build_saliency_model('random', arch='resnet18', seed=0)
    maps, secs = {}, {}
    for name, dev, dt in (('cpu', devices[0], torch.float32), ('cuda', devices[1], torch.float32), ('float64', 'cpu', torch.float64)):
        maps[name], secs[name] = timed(multilevel_saliency, copy.deepcopy(model).to(dt), layers, images.to(dt), batch_size=8,
                                       device=dev, progress=False)
    res = dict(shape=list(maps['cpu'].shape), seconds=secs)
    for a, b in (('cpu', 'cuda'), ('cpu', 'float64'), ('cuda', 'float64')):
        d = (maps[a] - maps[b]).abs()
        res[f'maps_{a}_vs_{b}'] = dict(max_abs=float(d.max()), mean_abs=float(d.mean()), per_level_max=[float(d[:, l].max()) for l in range(d.shape[1])],
                                        pixels_over_1e3=int((d > 1e-3).sum()))
    for mode in ('max', 'random'):
        cands = {k: torch.stack([candidates_from_maps(m, k=4, mode=mode, seed=i) for i, m in enumerate(maps[k])]) for k in maps}
        res[f'candidates_{mode}'] = candidate_agreement(cands['cpu'], cands['cuda'])
        res[f'candidates_{mode}_cpu_vs_float64'] = candidate_agreement(cands['cpu'], cands['float64'])
    res['ok'] = all(agreement_ok(res[f'candidates_{m}']) for m in ('max', 'random'))
    return res, maps['cpu']

def compare_kmeans(maps, devices, k=4):
    "k-means of the same maps on both devices."
    (l0, c0), t0 = timed(kmeans_1d, maps.to(devices[0]), k=k, seed=0)
    (l1, c1), t1 = timed(kmeans_1d, maps.to(devices[1]), k=k, seed=0)
    l1, c1 = l1.cpu(), c1.cpu()
    agree = float((l0.cpu() == l1).float().mean())
    res = dict(centroid_max_abs=float((c0.cpu() - c1).abs().max()), label_agreement=agree,
               labels_identical=bool(torch.equal(l0.cpu(), l1)), seconds=[t0, t1])
    res['ok'] = (res['centroid_max_abs'] <= TOLERANCES['kmeans_centroid_max_abs']
                 and agree >= TOLERANCES['kmeans_label_agreement'])
    cand = l0.cpu() == k - 1                                   # the max cluster: CutSwap's anchor candidates
    few = cand.flatten(2).sum(2) < 2                           # (a constant map has one cluster): use all its pixels
    cand[few] = True
    return res, cand

def compare_swaps(images, candidates, devices):
    "CutSwap negatives and scars from the same random draws (one CPU generator per side, same seed)."
    outs = []
    for d in devices:
        g = torch.Generator().manual_seed(0)
        neg, scar, ch, ch_scar = make_negatives(images.to(d), candidates.to(d), generator=g, return_changed=True)
        outs.append([t.cpu() for t in (neg, scar, ch, ch_scar)])
    (n0, s0, c0, cs0), (n1, s1, c1, cs1) = outs
    scar_diff = float((s0 != s1).any(2).float().mean())     # share of (image, level, pixel) that differ in any channel
    res = dict(negatives_identical=bool(torch.equal(n0, n1)), changed_identical=bool(torch.equal(c0, c1)),
               scars_identical=bool(torch.equal(s0, s1)), scar_changed_identical=bool(torch.equal(cs0, cs1)),
               scar_pixels_differing=scar_diff, changed_share=float(c0.float().mean()), shape=list(n0.shape))
    res['ok'] = res['negatives_identical'] and res['changed_identical'] and scar_diff <= TOLERANCES['scar_pixels_differing']
    return res

def compare_patchcore(train, test, devices, coreset):
    "PatchCore fitted and evaluated on both devices; AUROC by scikit-learn."
    res = {}
    for name, d in zip(('cpu', 'cuda'), devices):
        t0 = time.perf_counter()
        pc = PatchCore(build_model('resnet18', 'random', 0), coreset_ratio=coreset, seed=0, device=d).fit(train['image'])
        t1 = time.perf_counter()
        scores, maps = pc.predict(test['image'])
        t2 = time.perf_counter()
        masks = np.asarray(test['mask']).reshape(np.shape(maps)) > 0.5
        res[name] = dict(image_auroc=float(roc_auc_score(np.asarray(test['label']), np.asarray(scores))),
                         pixel_auroc=float(roc_auc_score(masks.ravel(), np.asarray(maps, dtype=np.float32).ravel())),
                         fit_seconds=round(t1 - t0, 2), predict_seconds=round(t2 - t1, 2))
    res['image_auroc_diff'] = abs(res['cpu']['image_auroc'] - res['cuda']['image_auroc'])
    res['pixel_auroc_diff'] = abs(res['cpu']['pixel_auroc'] - res['cuda']['pixel_auroc'])
    res['ok'] = max(res['image_auroc_diff'], res['pixel_auroc_diff']) <= TOLERANCES['auroc_abs']
    return res

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--data', help='dataset root holding the category (MVTec AD layout)')
    p.add_argument('--category', default='bottle')
    p.add_argument('--out', default='compare.json')
    p.add_argument('--dry-run', action='store_true', help='toy data at 64 px, CPU against CPU')
    a = p.parse_args()
    cuda = torch.cuda.is_available() and not a.dry_run
    devices = ('cpu', 'cuda') if cuda else ('cpu', 'cpu')
    root, cat = a.data, a.category
    if a.dry_run or root is None:
        root, cat = tempfile.mkdtemp(prefix='gpu-check-toy-'), 'toy'
        make_toy_category(root, cat, n_train=8, n_test_good=4, n_test_defect=2, size=64)
    size, crop, n_maps, coreset = (64, 64, 4, 0.1) if a.dry_run else (256, 224, 16, 0.01)
    torch.manual_seed(0)
    t0 = time.perf_counter()
    train = load_tensors(load_dataset(root, cat, 'train', size, crop), progress=False)
    test = load_tensors(load_dataset(root, cat, 'test', size, crop), progress=False)
    images = train['image'][:n_maps]
    out = dict(devices=list(devices), category=cat, data=str(root), size=size, crop=crop, tolerances=TOLERANCES,
               torch=torch.__version__, gpu=torch.cuda.get_device_name(0) if cuda else None)
    out['layercam'], maps = compare_layercam(images, devices)
    out['kmeans'], candidates = compare_kmeans(maps, devices)
    out['swaps'] = compare_swaps(images, candidates, devices)
    out['patchcore'] = compare_patchcore(train, test, devices, coreset)
    out['ok'] = all(out[k]['ok'] for k in ('layercam', 'kmeans', 'swaps', 'patchcore'))
    out['seconds'] = round(time.perf_counter() - t0, 1)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(out, indent=1) + '\n')
    lc = out['layercam']
    print('layercam maps: ' + '; '.join(f"{p.replace('maps_', '')} max {lc[p]['max_abs']:.2e} ({lc[p]['pixels_over_1e3']} px > 1e-3)"
                                         for p in ('maps_cpu_vs_cuda', 'maps_cpu_vs_float64', 'maps_cuda_vs_float64')))
    for m in ('max', 'random'):
        for suffix in ('', '_cpu_vs_float64'):
            r = lc[f'candidates_{m}{suffix}']
            print(f"  candidates {m:6s} {'cpu vs cuda' if not suffix else 'cpu vs float64'}: {r['pixels_differing']} pixels differ "
                  f"({r['pixels_same']:.6%} same), anchors same {r['anchors_same']:.2%} (where candidates same: {r['anchors_same_where_rows_same']}), "
                  f"generators in step {r['generator_in_step']}, max anchor TV {r['anchor_tv_max']:.1e}")
    for k in ('layercam', 'kmeans', 'swaps', 'patchcore'):
        if k == 'layercam': print(f"layercam  {'ok    ' if lc['ok'] else 'FAILED'} (candidates cpu vs cuda: agreement_ok)"); continue
        print(f"{k:9s} {'ok    ' if out[k]['ok'] else 'FAILED'} " + json.dumps({x: v for x, v in out[k].items() if x != 'ok'}))
    print(f"compare: {'all ok' if out['ok'] else 'FAILED'} in {out['seconds']} s ({devices[0]} against {devices[1]}) -> {a.out}")
    return 0 if out['ok'] else 1

if __name__ == '__main__':
    sys.exit(main())
