"""Training throughput of `cutswap_nb.train` against plain ResNet18 training.

    python bench/train_throughput.py                        # CPU, 128 px, batch 16, 5 levels, 3 timed steps
    python bench/train_throughput.py --device cuda --size 224 --batch 64 --steps 20
    python bench/train_throughput.py --device cuda --size 224 --batch 64 --accum 4    # 4 micro-batches per step

Prints, for the CutSwap training step (the package's `build_batch` + `train_step`, with the settings
`train` uses on that device: bf16 autocast and channels_last on CUDA; `--accum a` builds and runs each
step as `a` micro-batches, as `train` does, and reports the peak CUDA memory):
  - images/s: images the network sees per second (positives + negatives),
  - the share of step time spent building batches (the builder is timed separately, synchronised),
and the same images/s for plain ResNet18 training (torchvision resnet18, same input size, same
number of images per step, random inputs and labels, same optimiser), with the ratio of the two.
Goals on GPU: batch building < 10 % of step time, images/s within 1.5x of plain ResNet18 (issue #12).
Timings are printed, never asserted.
"""
import argparse, math, time
import torch, torchvision
from cutswap_nb.models import build_cutswap_net
from cutswap_nb.core import parse_levels
from cutswap_nb.train import build_batch, train_step, class_weights, step_chunks


def sync(device):
    if device.type == 'cuda': torch.cuda.synchronize(device)


def sample_data(n, size, n_levels, device, seed=0):
    "Normalised random-texture images and candidate maps covering about a quarter of each image (as one of k=4 clusters)."
    g = torch.Generator().manual_seed(seed)
    low = torch.rand(n, 3, size // 8, size // 8, generator=g)
    images = torch.nn.functional.interpolate(low, size=(size, size), mode='bilinear', align_corners=False)
    images = (images - 0.45) / 0.225
    sal = torch.nn.functional.interpolate(torch.rand(n, n_levels, size // 16, size // 16, generator=g), size=(size, size),
                                          mode='bilinear', align_corners=False)
    return images.to(device), (sal > sal.flatten(2).quantile(0.75, dim=2)[..., None, None]).to(device)


class TimedChunks:
    "The micro-batches of one step, built on demand as `train` builds them (one alive at a time), the building timed alone."
    def __init__(self, chunks, build, device): self.chunks, self.build, self.device, self.seconds, self.images = chunks, build, device, 0., 0
    def __len__(self): return len(self.chunks)
    def __getitem__(self, j):
        ix = self.chunks[j]; n = sum(len(c) for c in self.chunks)
        sync(self.device); t0 = time.perf_counter()
        with torch.no_grad(): x, y = self.build(ix)
        sync(self.device); self.seconds += time.perf_counter() - t0; self.images += len(x)
        return x, y, len(ix) / n


def time_cutswap(images, cands, args, device, amp):
    net = build_cutswap_net('random', 0).to(device).train()
    if amp: net = net.to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(net.parameters(), lr=0.03, momentum=0.9, weight_decay=3e-5)
    gen = torch.Generator(device=device).manual_seed(0)
    n_levels = len(args.levels)
    w = class_weights(n_levels, args.balance, device)
    levels = None if args.method == 'cutswap' else args.levels
    t_build = t_step = 0.; n_img = 0
    for it in range(args.warmup + args.steps):
        idx = torch.randint(0, len(images), (args.batch,), device=device)
        build = lambda ix: build_batch(images[ix], cands[ix] if args.method == 'cutswap' else None, method=args.method,
                                       levels=levels, balance=args.balance, jitter=0.1, generator=gen)[:2]
        chunks = TimedChunks(step_chunks(idx, args.accum), build, device)
        sync(device); t0 = time.perf_counter()
        out = train_step(net, opt, chunks, w, amp)
        out.tolist(); sync(device); t2 = time.perf_counter()
        if it >= args.warmup: t_build += chunks.seconds; t_step += t2 - t0; n_img += chunks.images
    return n_img, t_build, t_step


def time_plain(n_per_step, args, device, amp):
    net = torchvision.models.resnet18(num_classes=3).to(device).train()
    if amp: net = net.to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(net.parameters(), lr=0.03, momentum=0.9, weight_decay=3e-5)
    x = torch.randn(n_per_step, 3, args.size, args.size, device=device)
    y = torch.randint(0, 3, (n_per_step,), device=device)
    t = 0.
    for it in range(args.warmup + args.steps):
        sync(device); t0 = time.perf_counter()
        train_step(net, opt, [(x, y, 1.0)], None, amp).tolist(); sync(device)
        if it >= args.warmup: t += time.perf_counter() - t0
    return n_per_step * args.steps, t


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--device', default='cpu'); p.add_argument('--size', type=int, default=128)
    p.add_argument('--batch', type=int, default=16, help='normal images per step')
    p.add_argument('--accum', type=int, default=1, help='micro-batches per step (gradient accumulation)')
    p.add_argument('--levels', default='0,1,2,3,4'); p.add_argument('--method', default='cutswap', choices=['cutswap', 'cutpaste'])
    p.add_argument('--balance', default='weight', choices=['weight', 'replicate'])
    p.add_argument('--steps', type=int, default=3, help='timed steps'); p.add_argument('--warmup', type=int, default=1)
    p.add_argument('--n-images', type=int, default=64, help='training-set size held on the device')
    p.add_argument('--no-amp', action='store_true')
    args = p.parse_args(); args.levels = parse_levels(args.levels)
    device = torch.device(args.device); amp = device.type == 'cuda' and not args.no_amp
    torch.manual_seed(0)
    images, cands = sample_data(args.n_images, args.size, len(args.levels), device)
    name = torch.cuda.get_device_name(device) if device.type == 'cuda' else f'cpu, {torch.get_num_threads()} threads'
    print(f"device: {name}; {args.size} px, {args.batch} normal images/step, {args.method}, levels {list(args.levels)}, "
          f"balance {args.balance}, accum {args.accum}, amp {amp}, {args.steps} timed steps after {args.warmup} warm-up")
    if device.type == 'cuda': torch.cuda.reset_peak_memory_stats(device)
    n, tb, ts = time_cutswap(images, cands, args, device, amp)
    per_step = n // args.steps
    print(f"cutswap training : {n / ts:8.1f} images/s ({per_step} images/step, {ts / args.steps * 1000:.0f} ms/step); "
          f"batch building {tb / args.steps * 1000:.0f} ms/step = {100 * tb / ts:.1f} % of step time; accum {args.accum}")
    if device.type == 'cuda': print(f"peak CUDA memory: {torch.cuda.max_memory_allocated(device) / 2**30:.2f} GiB")
    n2, t2 = time_plain(per_step, args, device, amp)
    print(f"plain ResNet18   : {n2 / t2:8.1f} images/s ({per_step} images/step, {t2 / args.steps * 1000:.0f} ms/step)")
    print(f"ratio plain / cutswap images/s: {(n2 / t2) / (n / ts):.2f}x   (goal on GPU: <= 1.5x; batch building < 10 %)")


if __name__ == '__main__':
    main()
