"""cutswap_nb's PatchCore against anomalib's, on the same inputs: AUROCs and fit+predict time.

How to run (from the repository root; anomalib goes into its own venv only, it is never a
dependency of cutswap_nb; the install takes about 90 s):

    python3 -m venv /tmp/anomalib-venv
    /tmp/anomalib-venv/bin/pip install -c constraints.txt anomalib==2.7.0 faiss-cpu fastprogress fastcore
    /tmp/anomalib-venv/bin/python bench/patchcore_vs_anomalib.py            # bottle, 256 -> 224 px, coreset 0.01

It takes several minutes on 2 CPU cores, nearly all of it in anomalib's coreset selection.

Options: --root (default ../shared/data/mvtec_ad), --category bottle, --size 256, --crop 224,
--coreset 0.01, --seed 0, --batch-size 16, --device cpu|cuda, --threads N (default: all cores),
--spread 4 (our image AUROC over 4 coreset seeds, to show the run-to-run spread; 0 skips it),
--anomalib-spread K (anomalib's image AUROC over K more coreset seeds; minutes each on a CPU).

The coreset is the only random part of PatchCore, and with a random backbone the image AUROC on
bottle moves by about +-0.01 with the coreset seed alone, on both sides; the line "cutswap_nb
scoring with anomalib's memory bank" removes that randomness and must reproduce anomalib's numbers.
cutswap_nb is imported from this checkout (sys.path), so nothing else needs installing.

What is compared. Both get the same tensors (cutswap_nb's loader: resize to 256, centre-crop 224,
ImageNet normalisation, which is also anomalib's PatchCore pre-processing) and the same seeded
random ResNet18 weights (cutswap_nb.models.build_model('resnet18', 'random', seed); timm's resnet18
uses torchvision's parameter names). anomalib runs through its torch model `PatchcoreModel`
exactly as its Lightning module drives it (training-mode forward per batch, then
`subsample_embedding(ratio)`, then eval-mode forward), with layers layer2+layer3, the same coreset
ratio and num_neighbors=1; its Engine/data module are bypassed so that only the models are timed.
Both sides' image and pixel AUROC are computed by the same function (scikit-learn); PRO is
computed by cutswap_nb and cross-checked with anomalib's AUPRO on the same maps. Known differences
by design: cutswap_nb upsamples patch scores bilinearly (anomalib: nearest) before the same σ=4 blur,
projects to 128 dims for the coreset (anomalib: a sparse projection of ~300 dims by the JL bound
with eps 0.9), selects it exactly in float32 with triangle-inequality pruning on the CPU, and uses
faiss for the nearest-neighbour search. cutswap_nb runs with embedding='anomalib' (the comparable one).
"""
from __future__ import annotations
import argparse, os, sys, time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault('TQDM_DISABLE', '1')      # anomalib's coreset progress bar


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--root', default=str(REPO.parent/'shared'/'data'/'mvtec_ad'))
    p.add_argument('--category', default='bottle')
    p.add_argument('--size', type=int, default=256)
    p.add_argument('--crop', type=int, default=224)
    p.add_argument('--coreset', type=float, default=0.01)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--batch-size', type=int, default=16)
    p.add_argument('--device', default='cpu')
    p.add_argument('--threads', type=int, default=None, help='torch threads (default: torch default)')
    p.add_argument('--spread', type=int, default=4, help="also report our image AUROC over this many coreset seeds (0: skip)")
    p.add_argument('--anomalib-spread', type=int, default=0, help="and anomalib's over this many more seeds (slow: minutes each)")
    a = p.parse_args(argv)

    import warnings
    warnings.filterwarnings('ignore')
    import numpy as np
    import torch
    if a.threads: torch.set_num_threads(a.threads)
    try:
        import anomalib
        from anomalib.models.image.patchcore.torch_model import PatchcoreModel
        from anomalib.metrics.aupro import _AUPRO
    except ImportError as e:
        sys.exit(f"anomalib is not importable in this interpreter ({sys.executable}): {e}\n"
                 f"Run this script with the benchmark venv, see the top of {__file__}.")
    from cutswap_nb.data import load_dataset, load_tensors
    from cutswap_nb.models import build_model
    from cutswap_nb.metrics import compute_metrics, auroc
    from cutswap_nb.patchcore import PatchCore, layer_features

    dev = torch.device(a.device)
    layers = ('layer2', 'layer3')
    print(f"anomalib {anomalib.__version__}, torch {torch.__version__}, {torch.get_num_threads()} threads, device {dev}")
    print(f"{a.category}: size {a.size} crop {a.crop}, layers {layers}, coreset {a.coreset}, k=1, "
          f"seeded random ResNet18 (seed {a.seed}), batch {a.batch_size}")
    t0 = time.perf_counter()
    train = load_tensors(load_dataset(a.root, a.category, 'train', a.size, a.crop), progress=False)
    test = load_tensors(load_dataset(a.root, a.category, 'test', a.size, a.crop), progress=False)
    print(f"loaded {len(train['image'])} train / {len(test['image'])} test images in {time.perf_counter() - t0:.1f}s")
    weights = build_model('resnet18', 'random', a.seed).state_dict()

    # --- anomalib: same weights into timm's features_only resnet18 -----------------------------
    model = PatchcoreModel(layers=list(layers), backbone='resnet18', pre_trained=False, num_neighbors=1)
    fx = model.feature_extractor.feature_extractor
    own = fx.state_dict()
    missing = [k for k in own if k not in weights]
    if missing: sys.exit(f"timm resnet18 parameters without a torchvision counterpart: {missing[:5]}")
    fx.load_state_dict({k: weights[k] for k in own})
    model = model.to(dev)
    x = test['image'][:2].to(dev)
    with torch.no_grad():
        theirs = model.feature_extractor(x)
        ours = layer_features(build_model('resnet18', 'random', a.seed).to(dev).eval(), x, layers)
    diff = max(float((theirs[l] - o).abs().max()) for l, o in zip(layers, ours))
    print(f"same backbone: max |layer feature difference| = {diff:.2e}")

    # warm-up of both backbones (one-time kernel/primitive set-up is not part of either timing)
    with torch.no_grad():
        model.feature_extractor(train['image'][:a.batch_size].to(dev))
        PatchCore(build_model('resnet18', 'random', a.seed), layers, device=dev).embed(train['image'][:a.batch_size])

    stored = []   # anomalib's training embeddings, kept for --anomalib-spread

    def predict_anomalib():
        model.eval()
        sc, mp = [], []
        with torch.no_grad():
            for s in range(0, len(test['image']), a.batch_size):
                out = model(test['image'][s:s + a.batch_size].to(dev))
                sc.append(out.pred_score.flatten().cpu()); mp.append(out.anomaly_map[:, 0].cpu())
        return torch.cat(sc), torch.cat(mp)

    def run_anomalib():
        torch.manual_seed(a.seed); np.random.seed(a.seed)   # its projection draws from numpy's global RNG
        model.train()   # PatchcoreModel collects embeddings in training mode (the backbone runs under no_grad)
        model.feature_extractor.eval()
        model.embedding_store.clear()
        for s in range(0, len(train['image']), a.batch_size): model(train['image'][s:s + a.batch_size].to(dev))
        stored.extend(model.embedding_store)
        model.subsample_embedding(a.coreset)
        t_fit = time.perf_counter()
        return (*predict_anomalib(), t_fit)

    def run_ours():
        pc = PatchCore(build_model('resnet18', 'random', a.seed), layers, a.coreset, proj_dim=128, k=1, seed=a.seed,
                       device=dev, batch_size=a.batch_size, embedding='anomalib').fit(train['image'])
        t_fit = time.perf_counter()
        s, m = pc.predict(test['image'])
        return s, m, t_fit, pc

    t0 = time.perf_counter(); a_scores, a_maps, a_tfit = run_anomalib(); t_a = time.perf_counter() - t0; a_tfit -= t0
    t0 = time.perf_counter(); o_scores, o_maps, o_tfit, pc = run_ours(); t_o = time.perf_counter() - t0; o_tfit -= t0
    print(f"memory banks: anomalib {tuple(model.memory_bank.shape)}, cutswap_nb {tuple(pc.memory_bank.shape)}; "
          f"cutswap_nb fit: features {pc.fit_info['embed_seconds']:.1f}s, coreset {pc.fit_info['coreset_seconds']:.1f}s")

    res = {}
    for name, s, m in [('anomalib', a_scores, a_maps), ('cutswap_nb', o_scores, o_maps)]:
        res[name] = compute_metrics(test['label'], s, test['mask'], m)
    aupro = _AUPRO(fpr_limit=0.3)
    aupro.update(o_maps, test['mask'][:, 0].int())
    pro_check = float(aupro.compute())

    print()
    print(f"{'':12s} {'image AUROC':>12s} {'pixel AUROC':>12s} {'PRO':>8s} {'fit s':>8s} {'predict s':>10s} {'total s':>8s}")
    for name, t, tf in [('anomalib', t_a, a_tfit), ('cutswap_nb', t_o, o_tfit)]:
        r = res[name]
        print(f"{name:12s} {r['image_auroc']:12.4f} {r['pixel_auroc']:12.4f} {r['pro']:8.4f} {tf:8.1f} {t - tf:10.1f} {t:8.1f}")
    di = res['cutswap_nb']['image_auroc'] - res['anomalib']['image_auroc']
    dp = res['cutswap_nb']['pixel_auroc'] - res['anomalib']['pixel_auroc']
    print(f"\nAUROC difference (cutswap_nb - anomalib): image {di:+.4f}, pixel {dp:+.4f} "
          f"({'within' if max(abs(di), abs(dp)) <= 0.01 else 'NOT within'} 0.01)")
    print(f"fit+predict time ratio anomalib / cutswap_nb: {t_a / t_o:.2f}x (fit {a_tfit / o_tfit:.2f}x, predict {(t_a - a_tfit) / (t_o - o_tfit):.2f}x)")
    print(f"PRO of cutswap_nb's maps: cutswap_nb.pro_score {res['cutswap_nb']['pro']:.4f}, anomalib AUPRO {pro_check:.4f}")
    rho = np.corrcoef(a_scores.numpy(), o_scores.numpy())[0, 1]
    print(f"image-score correlation between the two: {rho:.4f}")
    # the coreset is the only random part; with anomalib's own memory bank our scoring must reproduce its numbers
    pc._set_bank(model.memory_bank.detach().cpu().clone())
    s_same, m_same = pc.predict(test['image'])
    r = compute_metrics(test['label'], s_same, test['mask'], m_same)
    print(f"cutswap_nb scoring with anomalib's memory bank: image AUROC {r['image_auroc']:.4f} (anomalib {res['anomalib']['image_auroc']:.4f}), "
          f"pixel AUROC {r['pixel_auroc']:.4f} (anomalib {res['anomalib']['pixel_auroc']:.4f}; bilinear vs nearest upsampling), "
          f"max |image score difference| {float((s_same - a_scores).abs().max()):.1e}")
    if a.spread:   # how much the coreset seed alone moves our image AUROC (features computed once)
        from cutswap_nb.patchcore import greedy_coreset, KNNIndex
        tr_f = pc.embed(train['image']); te_f = pc.embed(test['image'])
        C = tr_f.shape[1]
        X, Q = tr_f.permute(0, 2, 3, 1).reshape(-1, C), te_f.permute(0, 2, 3, 1).reshape(-1, C)
        vals = []
        for sd in range(a.seed, a.seed + a.spread):
            d, _ = KNNIndex(X[greedy_coreset(X, len(pc.memory_bank), 128, sd)].cpu()).search(Q, 1)
            vals.append(auroc(test['label'], d.view(len(te_f), -1).max(1).values))
        print(f"cutswap_nb image AUROC over coreset seeds {a.seed}..{a.seed + a.spread - 1}: "
              + ' '.join(f'{v:.4f}' for v in vals) + f" (mean {np.mean(vals):.4f}, range {np.ptp(vals):.4f})")
    if a.anomalib_spread:   # the same for anomalib: its coreset (with other seeds) on its stored embeddings
        vals = [res['anomalib']['image_auroc']]
        for sd in range(a.seed + 1, a.seed + 1 + a.anomalib_spread):
            torch.manual_seed(sd); np.random.seed(sd)
            model.embedding_store = list(stored)
            model.subsample_embedding(a.coreset)
            vals.append(auroc(test['label'], predict_anomalib()[0]))
        print(f"anomalib image AUROC over coreset seeds {a.seed}..{a.seed + a.anomalib_spread}: "
              + ' '.join(f'{v:.4f}' for v in vals) + f" (mean {np.mean(vals):.4f}, range {np.ptp(vals):.4f})")
    return 0


if __name__ == '__main__':
    sys.exit(main())
