"""Throughput of CutSwap augmentation from cached candidates, and the cost of the saliency pass it replaces.

    python bench/augment_throughput.py                        # CPU, 2 threads, batch 64, 256 px, 5 levels
    python bench/augment_throughput.py --threads 1 --repeats 10 --saliency-images 2

Prints
  - `make_negatives` from precomputed candidates (CutSwap + CutSwap-scar, one of each per level):
    input images/s (each yields 2 x levels negatives) and negatives/s, both with fresh output tensors
    and with reused `out` buffers (what a training loop can do);
  - the same from cluster ranks (mode 'random': a cluster drawn per image and level at every call);
  - the same for the CutPaste baseline;
  - the cost per image of the full saliency pass the cache saves: LayerCAM on a seeded random VGG16
    (5 layers) and k-means (K = 4) at the same image size.
Goal: >= 1000 input images/s from the cache on 2 CPU cores. Timings are printed, never asserted;
the machine may be shared, so the median and the best of the repeats are both shown.
"""
import argparse, os, statistics, time
import torch
import torch.nn.functional as F
from cutswap_nb.augment import make_negatives
from cutswap_nb.candidates import candidates_from_maps
from cutswap_nb.saliency import build_saliency_model, multilevel_saliency


def sample_data(n, size, levels, seed=0):
    "Smooth random images (normalised) and candidates from k-means (K=4, max cluster) on smooth random saliency maps."
    g = torch.Generator().manual_seed(seed)
    low = torch.rand(n, 3, size // 8, size // 8, generator=g)
    images = (F.interpolate(low, size=(size, size), mode='bilinear', align_corners=False) - 0.45) / 0.225
    sal = F.interpolate(torch.rand(n, levels, size // 16, size // 16, generator=g), size=(size, size),
                        mode='bilinear', align_corners=False)
    return images.contiguous(), candidates_from_maps(sal, k=4, mode='max'), candidates_from_maps(sal, k=4, mode='random')


def timed(fn, repeats):
    "Median and best wall time of `fn`, and its median process CPU time (all threads)."
    fn()                                                     # warm-up
    ts, cs = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time(); fn()
        ts.append(time.perf_counter() - t); cs.append(time.process_time() - c)
    return statistics.median(ts), min(ts), statistics.median(cs)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--batch', type=int, default=64)
    p.add_argument('--size', type=int, default=256)
    p.add_argument('--levels', type=int, default=5)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--repeats', type=int, default=7)
    p.add_argument('--saliency-images', type=int, default=4, help='images for the saliency-pass timing (0: skip)')
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    B, S, L = a.batch, a.size, a.levels
    images, cand, ranks = sample_data(B, S, L)
    print(f"CPU, {torch.get_num_threads()} threads, batch {B}, {S}x{S} px, {L} levels; candidates cover "
          f"{cand.float().mean().item():.1%} of the pixels (k-means K=4 on smooth random maps); "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    g = torch.Generator().manual_seed(0)
    shape = (B, L, 3, S, S)
    bufs = (torch.empty(shape), torch.empty(shape))
    for name, kw in [('cutswap (fresh tensors)', dict(candidates=cand)),
                     ('cutswap (reused out buffers)', dict(candidates=cand, out=bufs)),
                     ('cutswap, random cluster (reused)', dict(candidates=ranks, out=bufs)),
                     ('cutpaste (fresh tensors)', dict(candidates=cand, method='cutpaste')),
                     ('cutpaste (reused out buffers)', dict(candidates=cand, method='cutpaste', out=bufs))]:
        med, best, cpu = timed(lambda: make_negatives(images, generator=g, **kw), a.repeats)
        print(f"  {name:32s} {B / med:6.0f} images/s ({2 * L * B / med:6.0f} negatives/s) median, "
              f"{B / best:6.0f} images/s best; {med * 1e3:4.0f} ms wall, {cpu * 1e3:4.0f} ms CPU per batch")
    if a.saliency_images:
        n = a.saliency_images
        model, layers = build_saliency_model('random', 'vgg16', seed=0)
        x = images[:n]
        t = time.perf_counter(); maps = multilevel_saliency(model, layers, x, batch_size=n, device='cpu', progress=False)
        t_cam = (time.perf_counter() - t) / n
        t = time.perf_counter(); candidates_from_maps(maps, k=4, mode='max'); t_km = (time.perf_counter() - t) / n
        med = timed(lambda: make_negatives(images, cand, generator=g, out=bufs), 1)[0]
        print(f"  saliency pass per image: LayerCAM (VGG16, 5 layers) {t_cam * 1e3:.0f} ms + k-means (K=4, 5 maps) "
              f"{t_km * 1e3:.0f} ms = {(t_cam + t_km) * 1e3:.0f} ms, i.e. {1 / (t_cam + t_km):.1f} images/s: "
              f"{(t_cam + t_km) / (med / B):.0f}x the cached augmentation of one image")


if __name__ == '__main__':
    main()
