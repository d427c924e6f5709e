"""The last step of tools/gpu_check.sh: gather what the steps measured into OUT/summary.json and OUT/summary.md.

    python tools/gpu_check_summary.py --out OUT --work WORK [--category bottle] [--dry-run]

Reads WORK/steps.jsonl (status and time of each step), WORK/env.json, OUT/compare.json, OUT/throughput.log,
OUT/tests.log, OUT/results.json (`cutswap bench`) and the training runs' run.json under WORK/bench/train/ (for a
run stopped at the budget: the epochs done, and the full run's time projected from them). Each goal of issue #12
is judged on a GPU; in a dry run the figures only show that every step still runs. Exits 1 when a step failed or
a CPU/CUDA comparison did not hold (a goal missed is reported, not an error).
"""
import argparse, json, re, sys, time
from pathlib import Path

GOALS = dict(throughput_ratio=1.5, build_share_pct=10.0, cutswap_train_s=300.0)

def read_json(p:Path, default=None):
    try: return json.loads(p.read_text())
    except (OSError, ValueError): return default

def read_steps(work:Path) -> list:
    p = work/'steps.jsonl'
    return [json.loads(l) for l in p.read_text().splitlines() if l.strip()] if p.is_file() else []

def _num(pattern, text):
    m = re.search(pattern, text)
    return float(m.group(1)) if m else None

def throughput(log:Path) -> dict|None:
    "The figures bench/train_throughput.py prints."
    if not log.is_file(): return None
    t = log.read_text(errors='replace')
    return dict(cutswap_images_per_s=_num(r'cutswap training\s*:\s*([\d.]+) images/s', t),
                build_share_pct=_num(r'batch building.*?=\s*([\d.]+) % of step time', t),
                plain_images_per_s=_num(r'plain ResNet18\s*:\s*([\d.]+) images/s', t),
                ratio_plain_over_cutswap=_num(r'ratio plain / cutswap images/s:\s*([\d.]+)x', t),
                device_line=next((l for l in t.splitlines() if l.startswith('device:')), None))

def training_runs(work:Path) -> dict:
    "method -> what its run.json says: epochs done, loop seconds, complete, and the full loop's projected seconds."
    runs = {}
    for p in sorted((work/'bench'/'train').glob('**/run.json')):
        r = read_json(p, {})
        cfg, meta = r.get('config', {}), r.get('meta', {})
        step, total, secs = r.get('step') or 0, r.get('total_steps') or 0, meta.get('train_s')
        runs[cfg.get('method', p.parent.name)] = dict(
            epoch=r.get('epoch'), epochs=cfg.get('epochs'), step=step, total_steps=total, complete=bool(r.get('complete')),
            loop_seconds=round(secs, 1) if secs is not None else None,
            projected_loop_seconds=round(secs * total / step, 1) if secs and step and total else None)
    return runs

def bench(out:Path, work:Path) -> dict:
    "Per method: training wall time (data, saliency and candidates included), loop time, PatchCore fit/predict, AUROC."
    rows = [r for r in (read_json(out/'results.json', {}) or {}).get('rows', []) if r.get('status') == 'ok']
    runs, res = training_runs(work), {}
    for m in ('none', 'cutpaste', 'cutswap'):
        rs = [r for r in rows if r['method'] == m]
        d = dict(run=runs.get(m))
        if rs:
            d['train_seconds'] = max(r.get('train_seconds', 0) for r in rs)
            d['per_coreset'] = {str(r['coreset']): dict(fit_seconds=r.get('fit_seconds'), predict_seconds=r.get('predict_seconds'),
                                                        image_auroc=round(r['image_auroc'], 4), pixel_auroc=round(r['pixel_auroc'], 4))
                                for r in rs}
            loop = (runs.get(m) or {}).get('loop_seconds')
            if loop is not None and d['train_seconds']: d['setup_seconds'] = round(d['train_seconds'] - loop, 1)
        res[m] = d
    sw = res['cutswap']
    run = sw.get('run') or {}
    if sw.get('train_seconds'): res['cutswap_train_s'], res['cutswap_train_s_kind'] = sw['train_seconds'], 'measured'
    elif run.get('projected_loop_seconds'):
        res['cutswap_train_s'], res['cutswap_train_s_kind'] = run['projected_loop_seconds'], f"projected from {run['epoch']} epochs (loop only)"
    else: res['cutswap_train_s'], res['cutswap_train_s_kind'] = None, 'not reached'
    res['errors'] = [r.get('error') for r in (read_json(out/'results.json', {}) or {}).get('rows', []) if r.get('status') != 'ok']
    return res

def tests(log:Path) -> dict|None:
    if not log.is_file(): return None
    lines = [l for l in log.read_text(errors='replace').splitlines() if l.strip()]
    return dict(tail=lines[-12:])

def judge(value, goal, below=True):
    if value is None: return None
    return value < goal if below else value > goal

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--out', type=Path, required=True); ap.add_argument('--work', type=Path, required=True)
    ap.add_argument('--category', default='bottle'); ap.add_argument('--dry-run', action='store_true')
    a = ap.parse_args()
    env, steps = read_json(a.work/'env.json', {}), read_steps(a.work)
    cmp_, tp, bn = read_json(a.out/'compare.json'), throughput(a.out/'throughput.log'), bench(a.out, a.work)
    gpu = not a.dry_run
    goals = [
        ('CPU = CUDA (LayerCAM, k-means, swaps, PatchCore AUROC within 0.005)', cmp_ and cmp_.get('ok'), 'all hold',
         cmp_.get('ok') if cmp_ else None),
        ('CutSwap training images/s against plain ResNet18 (plain / CutSwap)', tp and tp['ratio_plain_over_cutswap'],
         f"<= {GOALS['throughput_ratio']}x", judge(tp and tp['ratio_plain_over_cutswap'], GOALS['throughput_ratio'] + 1e-9)),
        ('share of a step spent building the batch (%)', tp and tp['build_share_pct'], f"< {GOALS['build_share_pct']:.0f} %",
         judge(tp and tp['build_share_pct'], GOALS['build_share_pct'])),
        (f"CutSwap training on {a.category}, {(bn['cutswap'].get('run') or {}).get('epochs') or 256} epochs "
         f"(s; {bn['cutswap_train_s_kind']})", bn['cutswap_train_s'],
         f"< {GOALS['cutswap_train_s']:.0f} s", judge(bn['cutswap_train_s'], GOALS['cutswap_train_s'])),
    ]
    failed_steps = [s for s in steps if s.get('rc') != 0 and not (s.get('timed_out') and s.get('may_stop'))]   # step 4 may stop at the budget
    summary = dict(when=time.strftime('%Y-%m-%d %H:%M:%S'), mode='gpu' if gpu else 'dry run (CPU, toy sizes)', env=env,
                   steps=steps, goals=[dict(goal=g, figure=f, target=t, met=m if gpu else None) for g, f, t, m in goals],
                   compare=cmp_, throughput=tp, bench=bn, tests=tests(a.out/'tests.log'),
                   ok=not failed_steps and (cmp_ is None or bool(cmp_.get('ok'))))
    (a.out/'summary.json').write_text(json.dumps(summary, indent=1) + '\n')

    fmt = lambda v: '–' if v is None else (f'{v:.4g}' if isinstance(v, float) else str(v))
    md = [f"# GPU check: {env.get('gpu') or 'no GPU'}, {summary['when']}", "",
          f"Mode: {summary['mode']}. Python {env.get('python')}, torch {env.get('torch')} (CUDA {env.get('cuda')}), "
          f"cutswap_nb {env.get('cutswap_nb')}, {env.get('cpus')} CPUs. nvidia-smi: {env.get('nvidia_smi') or '–'}.", "",
          "| step | status | seconds (limit) |", "|---|---|---:|"]
    md += [f"| {s['step']}. {s['name']} | {'skipped (budget)' if s.get('skipped') else 'ok' if s['rc'] == 0 else 'stopped at its limit' if s.get('timed_out') else 'rc ' + str(s['rc'])} "
           f"| {s['seconds']} ({s['limit']}) |" for s in steps]
    md += ["", "## Goals" + ('' if gpu else ' (judged on a GPU only)'), "", "| goal | figure | target | met |", "|---|---:|---|---|"]
    md += [f"| {g['goal']} | {fmt(g['figure'])} | {g['target']} | {'–' if g['met'] is None else 'yes' if g['met'] else 'NO'} |"
           for g in summary['goals']]
    if cmp_:
        lc, km, sw, pc = cmp_['layercam'], cmp_['kmeans'], cmp_['swaps'], cmp_['patchcore']
        md += ["", f"## CPU against {cmp_['devices'][1]} ({cmp_['category']}, {cmp_['crop']} px)", "",
               f"- LayerCAM: max |Δ| {lc['fp32']['max_abs']:.2e} in float32 (TF32 off), {lc['tf32']['max_abs']:.2e} with TF32 on",
               f"- k-means: centroids max |Δ| {km['centroid_max_abs']:.2e}, same cluster for {100 * km['label_agreement']:.3f} % of pixels",
               f"- swaps: negatives bit-identical {sw['negatives_identical']}, changed masks {sw['changed_identical']}; "
               f"scars identical {sw['scars_identical']} ({100 * sw['scar_pixels_differing']:.4f} % of pixels differ)",
               f"- PatchCore: image AUROC {pc['cpu']['image_auroc']:.4f} / {pc['cuda']['image_auroc']:.4f}, pixel AUROC "
               f"{pc['cpu']['pixel_auroc']:.4f} / {pc['cuda']['pixel_auroc']:.4f}; fit + predict {pc['cpu']['fit_seconds'] + pc['cpu']['predict_seconds']:.1f} s "
               f"/ {pc['cuda']['fit_seconds'] + pc['cuda']['predict_seconds']:.1f} s"]
    if tp: md += ["", "## Training throughput", "", f"{tp['device_line'] or ''}", "",
                  f"CutSwap {fmt(tp['cutswap_images_per_s'])} images/s, plain ResNet18 {fmt(tp['plain_images_per_s'])} images/s "
                  f"(ratio {fmt(tp['ratio_plain_over_cutswap'])}x); batch building {fmt(tp['build_share_pct'])} % of a step."]
    md += ["", f"## Paper budget on {a.category} (offline protocol, `cutswap bench`)", "",
           "| method | training wall s | set-up s | loop s | epochs | coreset: fit s, predict s, image / pixel AUROC |", "|---|---:|---:|---:|---|---|"]
    for m in ('none', 'cutpaste', 'cutswap'):
        d, run = bn[m], bn[m].get('run') or {}
        ep = f"{run.get('epoch')}/{run.get('epochs')}" + ('' if run.get('complete') else f" (full loop ≈ {fmt(run.get('projected_loop_seconds'))} s)") if run else '–'
        pcs = '; '.join(f"{c}: {v['fit_seconds']}, {v['predict_seconds']}, {v['image_auroc']:.3f} / {v['pixel_auroc']:.3f}"
                        for c, v in (d.get('per_coreset') or {}).items()) or '–'
        md.append(f"| {m} | {fmt(d.get('train_seconds'))} | {fmt(d.get('setup_seconds'))} | {fmt(run.get('loop_seconds'))} | {ep} | {pcs} |")
    if bn['errors']:
        uniq = list(dict.fromkeys(map(str, bn['errors'])))
        md += ["", f"{len(bn['errors'])} failed cell(s): " + '; '.join(uniq[:3]) + (' ...' if len(uniq) > 3 else '')]
    if summary['tests']: md += ["", "## nbdev-test --flags cuda (end of the log)", "", "```", *summary['tests']['tail'], "```"]
    (a.out/'summary.md').write_text('\n'.join(md) + '\n')
    print('\n'.join(md))
    return 0 if summary['ok'] else 1

if __name__ == '__main__':
    sys.exit(main())
