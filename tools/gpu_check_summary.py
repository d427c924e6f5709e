"""The last step of tools/gpu_check.sh: gather what the steps measured into OUT/summary.json and OUT/summary.md.

    python tools/gpu_check_summary.py --out OUT --logs LOGS --work WORK [--category bottle] [--dry-run]

Reads WORK/steps.jsonl (status and time of each step), WORK/env.json, and from LOGS: compare.json, throughput.json
(the table of speed options) and throughput_parallel_*.json (two trainings at once), tests.log, results.json
(`cutswap bench`); the training runs' run.json under WORK/bench/train/ (for a run stopped at the budget: the epochs
done, and the full run's time projected from them). Writes OUT/summary.json and OUT/summary.md only. Each goal of
issues #12 and #17 is judged on a GPU; in a dry run the figures only show that every step still runs. Exits 1 when
a step failed or a CPU/CUDA comparison did not hold (a goal missed is reported, not an error).
"""
import argparse, json, re, sys, time
from pathlib import Path

GOALS = dict(throughput_ratio=1.25, build_share_pct=10.0, cutswap_train_s=35.0, parallel_gain=1.5)

def read_json(p:Path, default=None):
    try: return json.loads(p.read_text())
    except (OSError, ValueError): return default

def read_steps(work:Path) -> list:
    p = work/'steps.jsonl'
    return [json.loads(l) for l in p.read_text().splitlines() if l.strip()] if p.is_file() else []

def _num(pattern, text):
    m = re.search(pattern, text)
    return float(m.group(1)) if m else None

def throughput(logs:Path) -> dict|None:
    "The table bench/train_throughput.py wrote (throughput.json), its default row (train's settings), and two trainings at once."
    tp = read_json(logs/'throughput.json')
    if not tp: return None
    rows = [r for r in tp['rows'] if 'cutswap_images_s' in r]
    d = next((r for r in rows if r['name'].startswith('5.')), None)
    c = next((r for r in rows if r['name'].startswith('6.')), None)
    res = dict(device=tp.get('device'), size=tp.get('size'), batch=tp.get('batch'), table=tp.get('table'), rows=tp['rows'],
               cutswap_images_per_s=d and d['cutswap_images_s'], plain_images_per_s=d and d.get('plain_images_s'),
               ratio_plain_over_cutswap=d and d.get('plain_over_cutswap'), build_share_pct=d and 100 * d['build_share'])
    if c and d:
        saved = (d['step_ms'] - c['step_ms']) / 1000
        res['compile'] = dict(compile_s=c.get('compile_s'), saved_ms_per_step=1000 * saved,
                              pays_after_steps=c.get('compile_s', 0) / saved if saved > 0 else None)
    par = [read_json(p) for p in sorted(logs.glob('throughput_parallel_*.json'))]
    par = [r for p in par if p for r in p['rows'] if 'cutswap_images_s' in r]
    if len(par) == 2 and d:
        imgs = sum(r['images_per_step'] * r['steps'] for r in par)
        span = max(r['timed_window'][1] for r in par) - min(r['timed_window'][0] for r in par)
        res['parallel'] = dict(alone_images_s=d['cutswap_images_s'], each_images_s=[r['cutswap_images_s'] for r in par],
                               sum_images_s=sum(r['cutswap_images_s'] for r in par), aggregate_images_s=imgs / span,
                               gain=sum(r['cutswap_images_s'] for r in par) / d['cutswap_images_s'])
    return res

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
    ap.add_argument('--logs', type=Path, help='where the steps wrote their logs (default: OUT)')
    ap.add_argument('--category', default='bottle'); ap.add_argument('--dry-run', action='store_true')
    a = ap.parse_args(); a.logs = a.logs or a.out
    env, steps = read_json(a.work/'env.json', {}), read_steps(a.work)
    cmp_, tp, bn = read_json(a.logs/'compare.json'), throughput(a.logs), bench(a.logs, a.work)
    gpu = not a.dry_run
    goals = [
        ('CPU = CUDA (anchor candidates, k-means, swaps, PatchCore AUROC within 0.005)', cmp_ and cmp_.get('ok'), 'all hold',
         cmp_.get('ok') if cmp_ else None),
        ('CutSwap training images/s against plain ResNet18 (plain / CutSwap)', tp and tp['ratio_plain_over_cutswap'],
         f"<= {GOALS['throughput_ratio']}x", judge(tp and tp['ratio_plain_over_cutswap'], GOALS['throughput_ratio'] + 1e-9)),
        ('share of a step spent building the batch (%)', tp and tp['build_share_pct'], f"< {GOALS['build_share_pct']:.0f} %",
         judge(tp and tp['build_share_pct'], GOALS['build_share_pct'])),
        (f"CutSwap training on {a.category}, {(bn['cutswap'].get('run') or {}).get('epochs') or 256} epochs "
         f"(s; {bn['cutswap_train_s_kind']})", bn['cutswap_train_s'],
         f"<= {GOALS['cutswap_train_s']:.0f} s", judge(bn['cutswap_train_s'], GOALS['cutswap_train_s'] + 1e-9)),
        ('two trainings at once against one (sum of images/s / one alone)', tp and (tp.get('parallel') or {}).get('gain'),
         f">= {GOALS['parallel_gain']}x, else one job fills the GPU", judge(tp and (tp.get('parallel') or {}).get('gain'), GOALS['parallel_gain'] - 1e-9, below=False)),
    ]
    failed_steps = [s for s in steps if s.get('rc') != 0 and not (s.get('timed_out') and s.get('may_stop'))]   # step 4 may stop at the budget
    summary = dict(when=time.strftime('%Y-%m-%d %H:%M:%S'), mode='gpu' if gpu else 'dry run (CPU, toy sizes)', env=env,
                   steps=steps, goals=[dict(goal=g, figure=f, target=t, met=m if gpu else None) for g, f, t, m in goals],
                   compare=cmp_, throughput=tp, bench=bn, tests=tests(a.logs/'tests.log'),
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
               "- LayerCAM maps (reported; full float32 on both): "
               + '; '.join(f"{k.replace('maps_', '').replace('_', ' ')} max |Δ| {lc[k]['max_abs']:.2e}, {lc[k]['pixels_over_1e3']} px > 1e-3 "
                           f"(per level {', '.join(f'{v:.0e}' for v in lc[k]['per_level_max'])})"
                           for k in ('maps_cpu_vs_cuda', 'maps_cpu_vs_float64', 'maps_cuda_vs_float64')),
               *[f"- anchor candidates, mode {m} ({'judged: ' + ('ok' if lc['ok'] else 'NOT ok') if not sfx else 'cpu vs float64, reported'}): "
                 f"{r['pixels_differing']} pixels differ ({100 * r['pixels_same']:.4f} % same), anchors identical {100 * r['anchors_same']:.2f} % "
                 f"(everywhere the candidates are: {r['anchors_same_where_rows_same']}), generators in step {r['generator_in_step']}, "
                 f"largest anchor TV distance {r['anchor_tv_max']:.1e}"
                 for m in ('max', 'random') for sfx in ('', '_cpu_vs_float64') for r in [lc[f'candidates_{m}{sfx}']]],
               f"- k-means: centroids max |Δ| {km['centroid_max_abs']:.2e}, same cluster for {100 * km['label_agreement']:.3f} % of pixels",
               f"- swaps: negatives bit-identical {sw['negatives_identical']}, changed masks {sw['changed_identical']}; "
               f"scars identical {sw['scars_identical']} ({100 * sw['scar_pixels_differing']:.4f} % of pixels differ)",
               f"- PatchCore: image AUROC {pc['cpu']['image_auroc']:.4f} / {pc['cuda']['image_auroc']:.4f}, pixel AUROC "
               f"{pc['cpu']['pixel_auroc']:.4f} / {pc['cuda']['pixel_auroc']:.4f}; fit + predict {pc['cpu']['fit_seconds'] + pc['cpu']['predict_seconds']:.1f} s "
               f"/ {pc['cuda']['fit_seconds'] + pc['cuda']['predict_seconds']:.1f} s"]
    if tp:
        md += ["", "## Training throughput", "", f"{tp['device']}; {tp['size']} px, {tp['batch']} normal images per step "
               "(11 images each: positive, 5 CutSwap, 5 scar). Options cumulative; row 5 is `train`'s default.", "", tp['table'] or '', "",
               f"Default (row 5): CutSwap {fmt(tp['cutswap_images_per_s'])} images/s, plain ResNet18 {fmt(tp['plain_images_per_s'])} images/s "
               f"(ratio {fmt(tp['ratio_plain_over_cutswap'])}x); batch building {fmt(tp['build_share_pct'])} % of a step."]
        if tp.get('compile'):
            c = tp['compile']
            md += ["", f"torch.compile: {fmt(c['compile_s'])} s to compile, {fmt(c['saved_ms_per_step'])} ms saved per step: pays after "
                   f"{fmt(c['pays_after_steps'])} steps (a bottle paper run: 1024)."]
        if tp.get('parallel'):
            p = tp['parallel']
            md += ["", f"Two trainings at once (two processes): {' + '.join(fmt(x) for x in p['each_images_s'])} = {fmt(p['sum_images_s'])} images/s "
                   f"(over the joint window: {fmt(p['aggregate_images_s'])}) against {fmt(p['alone_images_s'])} alone: {fmt(p['gain'])}x."]
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
