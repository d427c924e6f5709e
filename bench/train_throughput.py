"""Training throughput of `cutswap_nb.train`, one speed option at a time, against plain ResNet18 training.

    python bench/train_throughput.py                                    # CPU, 64 px, batch 4, 5 levels, 3 timed steps
    python bench/train_throughput.py --device cuda --size 224 --batch 64 --steps 20
    python bench/train_throughput.py --device cuda --size 224 --batch 64 --only default --json tp.json   # train's settings only

Each row adds one option to the row above (cumulative), in the order `train` applies them on CUDA:
  1. fp32, NCHW, PyTorch's default SGD (foreach on CUDA), batches built inside the step (the sequential order)
  2. + bf16 autocast and channels_last                                      (`TrainConfig.amp`, CUDA only)
  3. + fused SGD                                                            (`make_optimizer`, CUDA only)
  4. + cudnn.benchmark                                                      (`setup_run`, CUDA only)
  5. + the next batch built while the current step runs (side CUDA stream)  (`Run.prefetch`): train's default
  6. + torch.compile of the network                                         (`TrainConfig.compile`, off by default;
     no plain ResNet18 column: compiling it too would double the row's time)
On the CPU the times are CPU seconds of this process (time.process_time), not wall-clock seconds, so that other
work on a shared machine does not move them. With --repeats R the rows are measured R times, interleaved, and the best of each is reported (build %: from the
best step and train-only times). Rows marked "not used on CPU" are skipped on the CPU (train does not apply them there); compile is skipped on the
CPU and with --no-compile. The CutSwap figures run the package's own loop (`train_epoch` over a `Run` made from
random-texture images and candidates, history written to a scratch folder); each row's columns:
  - CutSwap images/s: images the network sees per second (positives + negatives), whole epochs timed;
  - build %: the share of a step the batch building adds, 1 - (train-only step time / step time), where the
    train-only time runs `train_step` on a prebuilt batch with the same options;
  - plain ResNet18 images/s: torchvision resnet18, same options, same images per step, one fixed batch;
  - plain / CutSwap: the ratio of the two (goal on GPU: <= 1.25x); speed-up: CutSwap against row 1.
compile s: the extra time of the first steps (compilation) and the number of steps of a bottle paper run (256 epochs
x 4 steps) after which it pays for itself. Timings are printed (and written with --json), never asserted.
"""
import argparse, json, math, os, tempfile, time, traceback
from contextlib import contextmanager
from dataclasses import replace
import torch, torchvision
from cutswap_nb.models import build_cutswap_net
from cutswap_nb.core import parse_levels
from cutswap_nb.train import TrainConfig, Run, build_batch, train_step, train_epoch, class_weights, make_optimizer

ROWS = [  # name, options (cumulative), applies on the CPU
    ('1. fp32, default SGD, batch built in the step', dict(amp=False, fused=False, benchmark=False, prefetch=False, compile=False), True),
    ('2. + bf16 autocast, channels_last', dict(amp=True), False),
    ('3. + fused SGD', dict(fused=True), False),
    ('4. + cudnn.benchmark', dict(benchmark=True), False),
    ('5. + next batch built during the step (train default)', dict(prefetch=True), True),
    ('6. + torch.compile', dict(compile=True), False),
]
PAPER_STEPS = 256 * 4   # a bottle paper run: 256 epochs of ceil(209 / 64) steps
clock = time.perf_counter   # on the CPU: time.process_time (main), the CPU seconds of this process, robust to a shared machine


def sync(device):
    if device.type == 'cuda': torch.cuda.synchronize(device)


def sample_data(n, size, n_levels, device, seed=0):
    "Normalised random-texture images and candidate maps covering about a quarter of each image (as one of k=4 clusters)."
    g = torch.Generator().manual_seed(seed)
    low = torch.rand(n, 3, size // 8, size // 8, generator=g)
    images = torch.nn.functional.interpolate(low, size=(size, size), mode='bilinear', align_corners=False)
    images = (images - 0.45) / 0.225
    sal = torch.nn.functional.interpolate(torch.rand(n, n_levels, max(size // 16, 2), max(size // 16, 2), generator=g),
                                          size=(size, size), mode='bilinear', align_corners=False)
    return images.to(device), (sal > sal.flatten(2).quantile(0.75, dim=2)[..., None, None]).to(device)


@contextmanager
def cudnn_benchmark(on):
    old = torch.backends.cudnn.benchmark; torch.backends.cudnn.benchmark = bool(on)
    try: yield
    finally: torch.backends.cudnn.benchmark = old


def make_run(images, cands, args, device, opt_kw, out):
    "A `Run` of `train` on the given tensors, with the row's options."
    cfg = TrainConfig('', 'bench', method=args.method, epochs=10**6, batch_size=args.batch, accum=args.accum, levels=args.levels,
                      balance=args.balance, seed=0, amp=opt_kw['amp'], compile=opt_kw['compile'], out=out, device=str(device))
    cfg.run_dir.mkdir(parents=True, exist_ok=True)
    model = build_cutswap_net('random', 0).to(device).train()
    if opt_kw['amp'] and device.type == 'cuda': model = model.to(memory_format=torch.channels_last)
    if opt_kw['fused']: opt, sched = make_optimizer(model, cfg, 10**6)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10**6)
    run = Run(cfg, device, model, opt, sched, images, cands if args.method == 'cutswap' else None,
              torch.Generator(device=device).manual_seed(0), meta={}, prefetch=opt_kw['prefetch'])
    if device.type == 'cuda' and opt_kw['prefetch']:
        run.side = torch.cuda.Stream(device); run.side.wait_stream(torch.cuda.current_stream(device))
    if opt_kw['compile']: run.net = torch.compile(run.net)
    return run


def time_epochs(run, n_epochs, device):
    "Seconds for `n_epochs` whole epochs of `train_epoch` (synchronised at both ends)."
    sync(device); t0 = clock()
    for _ in range(n_epochs): train_epoch(run, run.step // run.steps_per_epoch)
    sync(device); return clock() - t0


def time_fixed(net, opt, x, y, w, amp, steps, warmup, device):
    "Seconds for `steps` train_step calls on one prebuilt batch, after `warmup` calls; and the warm-up's seconds."
    sync(device); t0 = clock()
    for _ in range(warmup): train_step(net, opt, [(x, y, 1.0)], w, amp)
    sync(device); t1 = clock()
    for _ in range(steps): train_step(net, opt, [(x, y, 1.0)], w, amp)
    sync(device); return clock() - t1, t1 - t0


def measure(o, images, cands, args, device, out, plain=True):
    "One row: CutSwap images/s (the package's loop), train-only and plain ResNet18 images/s with the same options."
    amp = o['amp'] and device.type == 'cuda'
    with cudnn_benchmark(o['benchmark'] and device.type == 'cuda'):
        run = make_run(images, cands, args, device, dict(o, amp=amp), out)
        t_warm = time_epochs(run, 1, device)                               # warm-up epoch (compilation, cudnn autotuning)
        w0 = time.time(); t = time_epochs(run, args.epochs, device); w1 = time.time()
        steps = args.epochs * run.steps_per_epoch
        with torch.no_grad():
            x, y, _ = build_batch(images[:args.batch], cands[:args.batch] if args.method == 'cutswap' else None, args.method,
                                  None if args.method == 'cutswap' else args.levels, args.balance, 0.1, None,
                                  torch.Generator(device=device).manual_seed(1))
        if amp: x = x.contiguous(memory_format=torch.channels_last)
        n_img = len(x)
        t_train, _ = time_fixed(run.net, run.opt, x, y, run.weights, amp, steps, 1, device)
        res = dict(cutswap_images_s=n_img * steps / t, step_ms=1000 * t / steps, train_only_ms=1000 * t_train / steps,
                   build_share=max(0., 1 - t_train / t), images_per_step=n_img, warmup_epoch_s=t_warm, steps=steps,
                   timed_window=[w0, w1])
        if o['compile']: res['compile_s'] = max(0., t_warm - t / args.epochs)
        del run
        if plain:
            net = torchvision.models.resnet18(num_classes=3).to(device).train()
            if amp: net = net.to(memory_format=torch.channels_last)
            opt = (torch.optim.SGD(net.parameters(), lr=0.03, momentum=0.9, weight_decay=3e-5, fused=True) if o['fused'] and device.type == 'cuda'
                   else torch.optim.SGD(net.parameters(), lr=0.03, momentum=0.9, weight_decay=3e-5))
            if o['compile']: net = torch.compile(net)
            xp = torch.randn(n_img, 3, args.size, args.size, device=device)
            if amp: xp = xp.contiguous(memory_format=torch.channels_last)
            yp = torch.randint(0, 3, (n_img,), device=device)
            tp, _ = time_fixed(net, opt, xp, yp, None, amp, steps, 2, device)
            res['plain_images_s'] = n_img * steps / tp
            res['plain_over_cutswap'] = res['plain_images_s'] / res['cutswap_images_s']
    return res


def table(rows, device):
    head = ('| option (cumulative) | CutSwap images/s | build % of a step | plain ResNet18 images/s | plain / CutSwap | speed-up |\n'
            '|---|---:|---:|---:|---:|---:|')
    base = next((r['cutswap_images_s'] for r in rows if 'cutswap_images_s' in r), None)
    lines = [head]
    for r in rows:
        if 'skipped' in r: lines.append(f"| {r['name']} | – | – | – | – | {r['skipped']} |"); continue
        if 'cutswap_images_s' not in r: lines.append(f"| {r['name']} | – | – | – | – | failed: {r.get('error', '?')[:60]} |"); continue
        lines.append(f"| {r['name']} | {r['cutswap_images_s']:,.0f} | {100 * r['build_share']:.1f} | "
                     + (f"{r['plain_images_s']:,.0f} | {r['plain_over_cutswap']:.2f}x" if 'plain_images_s' in r else '– | –')
                     + f" | {r['cutswap_images_s'] / base:.2f}x |")
    return '\n'.join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--device', default='cpu'); p.add_argument('--size', type=int, default=64)
    p.add_argument('--batch', type=int, default=4, help='normal images per step')
    p.add_argument('--accum', type=int, default=1, help='micro-batches per step (gradient accumulation)')
    p.add_argument('--levels', default='0,1,2,3,4'); p.add_argument('--method', default='cutswap', choices=['cutswap', 'cutpaste'])
    p.add_argument('--balance', default='weight', choices=['weight', 'replicate'])
    p.add_argument('--steps', type=int, default=3, help='steps per timed epoch'); p.add_argument('--epochs', type=int, default=1, help='timed epochs')
    p.add_argument('--only', choices=['all', 'default'], default='all', help="'default': only train's default settings (row 5)")
    p.add_argument('--no-compile', action='store_true', help='skip the torch.compile row')
    p.add_argument('--no-plain', action='store_true', help='skip plain ResNet18 (e.g. for several processes at once)')
    p.add_argument('--repeats', type=int, default=1, help='measure every row this many times, interleaved; report the best')
    p.add_argument('--json', help='write the rows as JSON to this file')
    args = p.parse_args(argv); args.levels = parse_levels(args.levels)
    device = torch.device(args.device)
    global clock
    clock = time.perf_counter if device.type == 'cuda' else time.process_time
    torch.manual_seed(0)
    images, cands = sample_data(args.batch * args.steps, args.size, len(args.levels), device)   # an epoch is `steps` steps
    name = torch.cuda.get_device_name(device) if device.type == 'cuda' else f'cpu, {torch.get_num_threads()} threads'
    print(f"device: {name}; {args.size} px, {args.batch} normal images/step, {args.method}, levels {list(args.levels)}, "
          f"balance {args.balance}, accum {args.accum}, {args.epochs} timed epoch(s) of {args.steps} steps after one warm-up epoch")
    out = tempfile.mkdtemp(prefix='train-throughput-')
    rows, o, todo = [], {}, []
    for i, (label, opts, on_cpu) in enumerate(ROWS):
        o = dict(o, **opts)
        if args.only == 'default' and i != 4: continue
        if device.type != 'cuda' and not on_cpu: rows.append(dict(name=label, skipped='not used on CPU')); continue
        if opts.get('compile') and (device.type != 'cuda' or args.no_compile): rows.append(dict(name=label, skipped='skipped')); continue
        rows.append(dict(name=label, options=dict(o))); todo.append(rows[-1])
    for rep in range(args.repeats):          # rows interleaved, best of the repeats: a shared machine's noise hits all rows alike
        for r in todo:
            if device.type == 'cuda': torch.cuda.reset_peak_memory_stats(device)
            try: m = measure(r['options'], images, cands, args, device, out, plain=not (args.no_plain or r['options']['compile']))
            except Exception as e:                                            # e.g. torch.compile without a compiler: report, go on
                traceback.print_exc(); r['error'] = f"{type(e).__name__}: {e}"[:300]
                if args.json: write_json(args.json, name, args, rows)
                continue
            if device.type == 'cuda': m['peak_gib'] = torch.cuda.max_memory_allocated(device) / 2**30
            r.setdefault('repeats', []).append(m)
            best = max(r['repeats'], key=lambda x: x['cutswap_images_s'])
            r.update({k: v for k, v in best.items()})
            r['train_only_ms'] = min(x['train_only_ms'] for x in r['repeats'])
            r['build_share'] = max(0., 1 - r['train_only_ms'] / r['step_ms'])
            if 'plain_images_s' in best:
                r['plain_images_s'] = max(x['plain_images_s'] for x in r['repeats'])
                r['plain_over_cutswap'] = r['plain_images_s'] / r['cutswap_images_s']
            if args.json: write_json(args.json, name, args, rows)            # row by row: a run stopped at a time limit keeps its rows
            print(f"  {r['name']} (repeat {rep + 1}): {m['cutswap_images_s']:,.0f} images/s ({m['images_per_step']} images/step, "
                  f"{m['step_ms']:.0f} ms/step, train only {m['train_only_ms']:.0f} ms)"
                  + (f"; plain ResNet18 {m['plain_images_s']:,.0f} images/s" if 'plain_images_s' in m else '')
                  + (f"; compile {m['compile_s']:.0f} s" if 'compile_s' in m else ''), flush=True)
    print(table(rows, device))
    timed = {r['name'][:1]: r for r in rows if 'cutswap_images_s' in r}
    if '6' in timed and '5' in timed:
        saved = timed['5']['step_ms'] / 1000 - timed['6']['step_ms'] / 1000
        n = timed['6']['compile_s'] / saved if saved > 0 else math.inf
        print(f"torch.compile: {timed['6']['compile_s']:.0f} s to compile, {1000 * saved:.1f} ms saved per step: pays after "
              f"{n:,.0f} steps (a bottle paper run has {PAPER_STEPS}): {'pays' if n < PAPER_STEPS else 'does not pay'} within one run")
    if '5' in timed and 'plain_images_s' in timed['5']:
        d = timed['5']
        print(f"default (row 5): CutSwap {d['cutswap_images_s']:,.0f} images/s, plain ResNet18 {d['plain_images_s']:,.0f} images/s "
              f"(ratio {d['plain_over_cutswap']:.2f}x; goal on GPU <= 1.25x); batch building {100 * d['build_share']:.1f} % of a step "
              f"(goal < 10 %)")
    if args.json: write_json(args.json, name, args, rows)
    return rows


def write_json(path, name, args, rows):
    with open(path, 'w') as f:
        json.dump(dict(device=name, size=args.size, batch=args.batch, steps=args.steps, epochs=args.epochs, rows=rows,
                       table=table(rows, None)), f, indent=1)


if __name__ == '__main__':
    main()
