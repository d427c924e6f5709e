"""Run notebooks in place so that their saved outputs (figures, tables) match the code, keeping them small.

    python tools/run_nbs.py nbs/05_augment.ipynb [more.ipynb ...]

Cells flagged `#| slow`, `#| cuda` or `#| full` keep their old outputs and are not run. PNG figures larger
than 60 KB are stored as JPEG (quality 80), so a chapter stays well under 1 MB.
"""
import base64, io, sys, time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

SKIP_FLAGS = ('slow', 'cuda', 'full')

def _flags(src:str) -> set:
    return {w for l in src.splitlines() if l.startswith('#|') for w in l[2:].split()}

def _shrink(nb):
    from PIL import Image
    for c in nb.cells:
        for o in c.get('outputs', []):
            png = o.get('data', {}).get('image/png')
            if not png or len(png) < 80_000: continue
            im = Image.open(io.BytesIO(base64.b64decode(png))).convert('RGB')
            buf = io.BytesIO(); im.save(buf, 'JPEG', quality=80)
            del o['data']['image/png']; o['data']['image/jpeg'] = base64.b64encode(buf.getvalue()).decode()

def run(path):
    path = Path(path); nb = nbformat.read(path, as_version=4)
    skipped = {}
    for i, c in enumerate(nb.cells):
        if c.cell_type == 'code' and _flags(c.source) & set(SKIP_FLAGS):
            skipped[i] = c.source; c.source = '# skipped by tools/run_nbs.py\n'
    t0 = time.time()
    NotebookClient(nb, timeout=1800, kernel_name='python3', resources={'metadata': {'path': str(path.parent)}}).execute()
    for i, src in skipped.items():
        old = nbformat.read(path, as_version=4).cells[i]
        nb.cells[i].source, nb.cells[i].outputs = src, old.get('outputs', [])
    _shrink(nb)
    for c in nb.cells:
        c.metadata.pop('execution', None)     # nbclient's timings: noise in diffs
        if c.cell_type == 'code': c.execution_count = None
        for o in c.get('outputs', []):
            if 'execution_count' in o: o['execution_count'] = None
    nbformat.write(nb, path)
    print(f"{path}: ran in {time.time() - t0:.0f} s, {path.stat().st_size / 1e3:.0f} KB")

if __name__ == '__main__':
    for p in sys.argv[1:]: run(p)
