"""Convert between notebooks and a plain 'percent' text form, for editing notebooks as text.

    python tools/nbsrc.py py2nb SRC.py nbs/NAME.ipynb   # build/replace a notebook (outputs dropped)
    python tools/nbsrc.py nb2py nbs/NAME.ipynb SRC.py   # dump a notebook's cells to text

Text form: cells start with a line `# %%` (code) or `# %% [md]` (markdown; lines written as-is, or all commented with `# `/`#` in jupytext style).
"""
import json, sys
from pathlib import Path

def py2nb(src, dst):
    cells, cur, kind = [], None, None
    def flush():
        if cur is None: return
        text = '\n'.join(cur).strip('\n')
        if not text: return
        if kind == 'markdown' and all(l == '#' or l.startswith('# ') for l in text.split('\n')):
            text = '\n'.join(l[2:] for l in text.split('\n'))   # jupytext-style '# '-commented markdown
        lines = text.split('\n')
        src_lines = [l + '\n' for l in lines[:-1]] + [lines[-1]]
        c = dict(cell_type=kind, metadata={}, source=src_lines)
        if kind == 'code': c.update(execution_count=None, outputs=[])
        cells.append(c)
    for line in Path(src).read_text().split('\n'):
        if line.startswith('# %%'):
            flush()
            kind, cur = ('markdown' if '[md]' in line or '[markdown]' in line else 'code'), []
        elif cur is not None: cur.append(line)
    flush()
    nb = dict(cells=cells, metadata=dict(kernelspec=dict(display_name='python3', language='python', name='python3')),
              nbformat=4, nbformat_minor=5)
    for i, c in enumerate(cells): c['id'] = f'c{i:03d}'
    Path(dst).write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n')

def nb2py(src, dst):
    nb = json.loads(Path(src).read_text())
    out = []
    for c in nb['cells']:
        src = ''.join(c['source'])
        if c['cell_type'] == 'markdown':   # commented, so that py2nb reads it back unchanged
            out.append('# %% [md]'); out.append('\n'.join(('# ' + l) if l else '#' for l in src.split('\n')))
        else: out.append('# %%'); out.append(src)
        out.append('')
    Path(dst).write_text('\n'.join(out))

if __name__ == '__main__':
    cmd, a, b = sys.argv[1:4]
    {'py2nb': py2nb, 'nb2py': nb2py}[cmd](a, b)
