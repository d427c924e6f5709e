"""Batched `kmeans_1d` against a per-map scikit-learn loop on real LayerCAM maps.

    python bench/kmeans_vs_sklearn.py [--images 32] [--size 256] [--repeats 3] [--sklearn-maps 0]

The maps are the five LayerCAM levels (seeded random VGG16, offline protocol) of the first
`--images` bottle training images at `--size` px (synthetic smooth maps when the shared MVTec AD
data is absent). Timings use the library's default thread settings; nothing is pinned. Prints
the time of each side, the speed ratio and the worst relative inertia difference.
"""
import argparse, time
import numpy as np
import torch
import torch.nn.functional as F
from sklearn.cluster import KMeans

from cutswap_nb.cluster import kmeans_1d, inertia
from cutswap_nb.data import MVTecAD, find_shared_data
from cutswap_nb.saliency import build_saliency_model, multilevel_saliency


def real_or_synthetic_maps(n_images, size):
    root = find_shared_data()
    if root is None:
        print('shared MVTec AD data not found: synthetic smooth maps')
        g = torch.Generator().manual_seed(0)
        small = torch.rand(n_images * 5, 1, 8, 8, generator=g) ** 2
        maps = F.interpolate(small, size=(size, size), mode='bilinear', align_corners=False)[:, 0]
        lo, hi = maps.amin((1, 2), keepdim=True), maps.amax((1, 2), keepdim=True)
        return ((maps - lo) / (hi - lo)).view(n_images, 5, size, size)
    ds = MVTecAD(root, 'bottle', 'train', size=size, crop=size)
    images = torch.stack([ds[i]['image'] for i in range(n_images)])
    model, layers = build_saliency_model('random', seed=0)
    t0 = time.perf_counter()
    maps = multilevel_saliency(model, layers, images, batch_size=8, device='cpu', progress=False)
    print(f'LayerCAM maps of {n_images} bottle images x {len(layers)} levels at {size} px '
          f'(seeded random VGG16): {time.perf_counter() - t0:.1f} s')
    return maps


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--images', type=int, default=32)
    p.add_argument('--size', type=int, default=256)
    p.add_argument('--repeats', type=int, default=3, help='kmeans_1d timings to take (the best is used)')
    p.add_argument('--sklearn-maps', type=int, default=0, help='time scikit-learn on only this many maps and '
                   'extrapolate (0: all maps)')
    a = p.parse_args(argv)
    maps = real_or_synthetic_maps(a.images, a.size)
    M = maps.shape[0] * maps.shape[1]
    print(f'{M} maps of {a.size}x{a.size} px; torch threads {torch.get_num_threads()}')

    kmeans_1d(maps[:1])                                          # warm-up
    times = []
    for _ in range(a.repeats):
        t0 = time.perf_counter(); labels, cents = kmeans_1d(maps); times.append(time.perf_counter() - t0)
    ours_t = min(times)
    ours = inertia(maps, labels, cents).flatten()

    flat = maps.flatten(0, 1).reshape(M, -1).numpy()
    n_sk = a.sklearn_maps or M
    t0 = time.perf_counter()
    theirs = [KMeans(n_clusters=4, random_state=0).fit(flat[i][:, None]).inertia_ for i in range(n_sk)]
    sk_t = (time.perf_counter() - t0) * M / n_sk
    rel = ours[:n_sk] / torch.tensor(theirs, dtype=torch.float64) - 1

    print(f'kmeans_1d, one batched call : {ours_t * 1000:8.1f} ms  (best of {a.repeats}: '
          + ', '.join(f'{t * 1000:.0f}' for t in times) + ' ms)')
    print(f'scikit-learn KMeans loop    : {sk_t * 1000:8.1f} ms  ({sk_t / M * 1000:.1f} ms per map'
          + (f', timed on {n_sk} maps' if n_sk < M else '') + ')')
    print(f'speed-up: {sk_t / ours_t:.1f}x')
    print(f'inertia kmeans_1d / sklearn - 1 over {n_sk} maps: worst {rel.max().item():+.4%}, best {rel.min().item():+.4%}')


if __name__ == '__main__':
    main()
