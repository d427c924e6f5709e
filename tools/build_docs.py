"""Build the documentation: README.md from nbs/index.ipynb, and the web site in _docs/.

    python tools/build_docs.py            # README.md, then _docs/ (Quarto's nbdev-docs if installed, else nbconvert)
    python tools/build_docs.py --readme   # README.md only
    python tools/build_docs.py --static   # README.md and the nbconvert site, even when Quarto is installed
    python tools/build_docs.py --no-math  # the nbconvert site without KaTeX (math stays as TeX source)

Both outputs go through nbdev's documentation processors (`FilterDefaults`: `#| hide` cells dropped, `show_doc`
added after exported definitions, links to the API docs, ...), called directly: `nbdev-proc-nbs` would try to
download Quarto first. One change to nbdev's defaults: exported source stays on the page, folded under
"Exported source" after its `show_doc` (nbdev's site drops it). Image outputs are left out of the README so the
repository stays light; the site embeds them. New notebooks in nbs/ are picked up automatically.

Math (`$...$`, `$$...$$`, `\\(...\\)`, `\\[...\\]` in Markdown) is typeset in the browser by KaTeX, shipped with the
site in `_docs/katex/` so that the pages render offline too. nbconvert's Markdown renderer leaves the TeX between
the delimiters untouched (no emphasis from `*` or `_` inside math). KaTeX (pinned: `KATEX_VERSION`) is fetched
once with `npm pack` into the ignored cache `build/katex/`; without npm, point `--katex DIR` (or the environment
variable `KATEX_DIST`) at the `dist/` folder of any KaTeX release (the npm tarball's `package/dist`, or the
`katex.tar.gz` of a GitHub release), or build with `--no-math`. Quarto (`nbdev-docs`) typesets math itself.
"""
import argparse, html, os, re, shutil, subprocess, sys, tarfile, tempfile
from pathlib import Path

# Python puts this script's folder first on sys.path: tools/run_nbs.py would then hide the execnb package nbdev imports
sys.path[:] = [p for p in sys.path if Path(p or '.').resolve() != Path(__file__).resolve().parent]

os.environ.setdefault('MPLBACKEND', 'Agg')
os.environ.setdefault('OMP_NUM_THREADS', '1')

import nbformat, yaml
from fastcore.nbio import read_nb, nb2str
from jinja2 import DictLoader
from nbconvert import HTMLExporter, MarkdownExporter
from nbconvert.filters import markdown2html
from nbdev.config import get_config, nbpath2html
from nbdev.doclinks import nbglob
from nbdev.processors import FilterDefaults, Processor, rm_export
from nbdev.readme_filter import doc_link
from pygments.formatters import HtmlFormatter

# ---------------------------------------------------------------- processing: nbdev's doc processors

_re_showdoc = re.compile(r'^show_doc\(', re.MULTILINE)

class fold_exports(Processor):
    "nbdev's `rm_export`, except that exported source stays, folded, after the `show_doc` cells of its definitions."
    def cell(self, cell):
        d = cell.directives_ or {}
        if cell.cell_type != 'code' or not d: return
        if d.keys() & {'hide', 'default_exp'}: del cell['source']
        elif d.keys() & {'export', 'exporti'}:
            cell.source = f'#| code-fold: true\n#| code-summary: "Exported source"\n{cell.source}'
            cell.folded_ = True
    def end(self):
        cells, i = self.nb.cells, 0
        while i < len(cells):
            j = i + 1
            if getattr(cells[i], 'folded_', False):
                while j < len(cells) and cells[j].get('source') and _re_showdoc.search(cells[j].source): j += 1
                cells[i:j] = cells[i+1:j] + [cells[i]]
            i = j

class DocsFilter(FilterDefaults):
    def base_procs(self): return [fold_exports if p is rm_export else p for p in super().base_procs()]

def process_notebook(path) -> nbformat.NotebookNode:
    "The notebook at `path` as nbdev's docs see it: run through the doc processors (executes imports and exports)."
    nb = read_nb(path)
    os.environ['IN_TEST'] = '1'                      # what nbdev sets while processing docs
    try: DocsFilter()(nb)
    finally: os.environ.pop('IN_TEST', None)
    for c in nb.cells: c.get('metadata', {}).pop('execution', None)   # execnb's timings, not valid nbformat
    return nbformat.reads(nb2str(nb), as_version=4)

_re_opt = re.compile(r'^#\|\s*([\w-]+)\s*:\s*(.*?)\s*$')

def split_options(source:str):
    "Quarto cell options (`#| key: value` lines opening a cell) as a dict, and the rest of the source."
    lines, opts = source.splitlines(), {}
    while lines and _re_opt.match(lines[0]):
        k, v = _re_opt.match(lines.pop(0)).groups()
        try: opts[k] = yaml.safe_load(v)
        except yaml.YAMLError: opts[k] = v
    return opts, '\n'.join(lines)

_re_attr_link = re.compile(r'\[([^\]]+)\]\(([^)\s]+)\)\{[^}]*\}')   # [text](url){attrs}: pandoc link attributes

def _attr_links(md:str) -> str:
    "Pandoc link attributes (show_doc's `[source](url){...}`): a link alone on its line floats right, others stay plain."
    md = re.sub(r'^' + _re_attr_link.pattern + r'[ \t]*$', r'<div class="doc-link"><a href="\2" target="_blank">\1</a></div>', md, flags=re.M)
    return _re_attr_link.sub(r'[\1](\2)', md)

def page_cells(nb):
    "Apply the Quarto options nbdev leaves in the cells (include, echo, output, code-fold); return the frontmatter."
    front, cells = {}, []
    for cell in nb.cells:
        if cell.cell_type == 'raw':
            m = re.match(r'^---\s*\n(.*?)\n---\s*$', cell.source.strip(), re.DOTALL)
            if m and not front: front = yaml.safe_load(m.group(1)) or {}; continue
        if cell.cell_type == 'markdown': cell.source = _attr_links(cell.source)
        if cell.cell_type == 'code':
            opts, cell.source = split_options(cell.source)
            if opts.get('include') is False: continue
            if opts.get('echo') is False or not cell.source.strip():
                cell.metadata.setdefault('transient', {})['remove_source'] = True
            if opts.get('output') is False: cell.outputs = []
            if opts.get('code-fold'):
                cell.metadata['code_fold'] = 'open' if opts['code-fold'] == 'show' else 'closed'
                cell.metadata['code_summary'] = opts.get('code-summary', 'Code')
            for o in cell.outputs:
                if 'text/markdown' in o.get('data', {}): o.data['text/markdown'] = _attr_links(o.data['text/markdown'])
            if not cell.source.strip() and not cell.outputs: continue
        cells.append(cell)
    nb.cells = cells
    return front

def notebooks(cfg):
    "Every notebook nbdev documents, the index first, then in file-name order."
    nbs = nbglob(cfg.nbs_path, func=Path)
    return sorted(nbs, key=lambda p: (p.relative_to(cfg.nbs_path).as_posix() != cfg.readme_nb, p.relative_to(cfg.nbs_path).as_posix()))

# ---------------------------------------------------------------- README.md

_md_template = r"""{%- extends 'markdown/index.md.j2' -%}
{% block input %}
```{{ cell.metadata.get('language', 'python') }}
{{ cell.source }}
```
{% endblock input %}
{% block stream %}
```
{{ output.text.rstrip() }}
```
{% endblock stream %}
{% block data_text scoped %}
```
{{ output.data['text/plain'].rstrip() }}
```
{% endblock data_text %}
"""

def _hosted_links(md:str, cfg) -> str:
    "Relative links to notebooks and pages point at the hosted docs, as nbdev's README filter does."
    if not cfg.doc_url: return md
    return re.sub(r'\]\(([^)\s]+)\)', lambda m: '](' + doc_link(m.group(1), cfg.doc_url) + ')', md)

def build_readme(cfg) -> Path:
    "README.md from the index notebook; figures and other image outputs are left out."
    nb = process_notebook(cfg.nbs_path/cfg.readme_nb)
    front = page_cells(nb)
    for cell in nb.cells:
        if cell.cell_type == 'code':
            if cell.metadata.get('transient', {}).get('remove_source'): cell.source = ''
            cell.outputs = [o for o in cell.outputs if not any(k.startswith('image/') for k in o.get('data', {}))
                            and o.get('output_type') != 'error']
    exp = MarkdownExporter(extra_loaders=[DictLoader({'readme.md.j2': _md_template})], template_file='readme.md.j2')
    body, _ = exp.from_notebook_node(nb)
    head = f"# {front.get('title', cfg.title)}\n\n" + (f"> {front['description']}\n\n" if front.get('description') else '')
    text = re.sub(r'\n{3,}', '\n\n', head + _hosted_links(body, cfg)).strip() + '\n'
    text = re.sub(r'```\w*\n\s*```\n?', '', text)  # code cells whose source is hidden
    out = cfg.config_path/'README.md'
    out.write_text(text)
    return out

# ---------------------------------------------------------------- math: KaTeX shipped with the site

KATEX_VERSION = '0.19.1'   # the npm release the site ships; bump it here (the cache keeps one folder per version)
KATEX_CACHE = Path('build')/'katex'
KATEX_FILES = ('katex.min.js', 'katex.min.css', 'contrib/auto-render.min.js', 'fonts')
# Run by every page after KaTeX's auto-render: typeset the math in the chapter text (auto-render skips pre, code
# and script elements, so `$` in code and outputs stays as it is).
_render_math_js = r"""document.addEventListener('DOMContentLoaded', function () {
  renderMathInElement(document.querySelector('main') || document.body, {
    delimiters: [{left: '$$', right: '$$', display: true}, {left: '\\[', right: '\\]', display: true},
                 {left: '$', right: '$', display: false}, {left: '\\(', right: '\\)', display: false}],
    throwOnError: false   // a formula KaTeX cannot parse shows as red TeX (class katex-error), checked by check_docs.py
  });
});
"""

class MathUnavailable(RuntimeError): pass

def _is_katex_dist(d:Path) -> bool: return all((d/f).exists() for f in KATEX_FILES)

def fetch_katex(cache:Path=KATEX_CACHE, version:str=KATEX_VERSION) -> Path:
    "KaTeX's `dist/` folder from the cache, fetched first with `npm pack katex@version` when absent."
    dist = cache/f'katex-{version}'/'dist'
    if _is_katex_dist(dist): return dist
    npm = shutil.which('npm')
    if not npm:
        raise MathUnavailable(f"KaTeX {version} is not in {cache}/ and npm (Node.js) is not installed to fetch it. Install "
                              "Node.js (Debian: apt-get install -y npm), or pass --katex DIR (or set KATEX_DIST) to the dist/ "
                              "folder of a KaTeX release, or build with --no-math (math then shows as TeX source)")
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        print(f'fetching KaTeX {version} with npm into {cache}/', flush=True)
        res = subprocess.run([npm, 'pack', f'katex@{version}', '--pack-destination', tmp, '--silent'],
                             capture_output=True, text=True)
        tgz = next(Path(tmp).glob('katex-*.tgz'), None)
        if res.returncode or tgz is None:
            raise MathUnavailable(f"`npm pack katex@{version}` failed (no access to the npm registry?): "
                                  f"{(res.stderr or res.stdout).strip()[-500:]}\nPass --katex DIR or build with --no-math")
        with tarfile.open(tgz) as t: t.extractall(tmp, filter='data')
        if not _is_katex_dist(Path(tmp)/'package'/'dist'): raise MathUnavailable(f'{tgz.name} holds no KaTeX dist/ folder')
        shutil.rmtree(dist.parent, ignore_errors=True)
        os.replace(Path(tmp)/'package', dist.parent)   # whole folder at once: an interrupted fetch leaves no half cache
    return dist

def katex_dist(given=None) -> Path:
    "The KaTeX `dist/` folder to ship: `given` (or $KATEX_DIST) when set, else the npm cache."
    given = given or os.environ.get('KATEX_DIST')
    if not given: return fetch_katex()
    d = Path(given)
    if not _is_katex_dist(d):
        raise MathUnavailable(f"{d} is not a KaTeX dist/ folder: it needs {', '.join(KATEX_FILES)}")
    return d

def install_katex(dist:Path, out:Path):
    "Copy what the pages use (scripts, stylesheet, fonts, licence) to `out`/katex/, with the page's render call."
    dest = out/'katex'
    for f in KATEX_FILES:
        (dest/f).parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if (dist/f).is_dir() else shutil.copy2)(dist/f, dest/f)
    lic = dist.parent/'LICENSE'
    if lic.is_file(): shutil.copy2(lic, dest/'LICENSE')
    (dest/'render-math.js').write_text(_render_math_js)

def math_head(prefix:str) -> str:
    "The `<head>` lines that load KaTeX from the site (relative links: the pages work from a file system, offline)."
    k = prefix + 'katex/'
    return (f'<link rel="stylesheet" href="{k}katex.min.css">\n<script defer src="{k}katex.min.js"></script>\n'
            f'<script defer src="{k}contrib/auto-render.min.js"></script>\n<script defer src="{k}render-math.js"></script>\n')

# ---------------------------------------------------------------- the static site (no Quarto)

_page_template = r"""{%- extends 'basic/index.html.j2' -%}
{% block input_group -%}
{%- if cell.metadata.get('code_fold') -%}
<details class="code-fold"{{ ' open' if cell.metadata.code_fold == 'open' }}><summary>{{ cell.metadata.code_summary | escape }}</summary>
{{ super() }}
</details>
{%- else -%}{{ super() }}{%- endif -%}
{%- endblock input_group %}
"""

def _slug(text:str) -> str:
    "Pandoc's (and so Quarto's) heading identifier, which nbdev's API links point at."
    s = re.sub(r'[^\w\s.-]', '', html.unescape(re.sub(r'<[^>]+>', '', text)).strip().lower())
    return re.sub(r'^[^a-z]+', '', re.sub(r'\s+', '-', s)) or 'section'

def fix_headings(body:str):
    "Give headings Pandoc's ids (so API links resolve) and return the h2/h3 table of contents."
    toc, seen = [], set()
    def sub(m):
        lvl, inner = m.group(1), re.sub(r'<a class="anchor-link".*?</a>', '', m.group(3))
        sid = base = _slug(inner); n = 1
        while sid in seen: sid = f'{base}-{n}'; n += 1
        seen.add(sid)
        if lvl in '23': toc.append((int(lvl), sid, re.sub(r'<[^>]+>', '', inner).strip()))
        return f'<h{lvl} id="{sid}">{inner}<a class="anchor-link" href="#{sid}">#</a></h{lvl}>'
    return re.sub(r'<h([1-6]) id="([^"]*)">(.*?)</h\1>', sub, body, flags=re.DOTALL), toc

def local_links(body:str, cfg, prefix:str) -> str:
    "Links into the hosted docs and to notebooks become links between the pages of this site."
    if cfg.doc_url: body = body.replace('href="%s/' % cfg.doc_url.rstrip('/'), f'href="{prefix}')
    return re.sub(r'href="(?![a-z]+:)([^"#]+)\.ipynb', lambda m: f'href="{nbpath2html(m.group(1) + ".ipynb").as_posix()}', body)

CURRENT = ' class="current"'

def _page(title, description, body, toc, nav, here, prev, nxt, cfg, prefix, head=''):
    def link(p): return prefix + p['href']
    side = [f'<li{CURRENT if p is here else ""}><a href="{link(p)}">{html.escape(p["title"])}</a></li>' for p in nav]
    on_page = ''.join(f'<li class="toc-h{lvl}"><a href="#{sid}">{html.escape(text)}</a></li>' for lvl, sid, text in toc)
    pn = ''.join([f'<a class="prev" href="{link(prev)}"><span>Previous</span>{html.escape(prev["title"])}</a>' if prev else '<span></span>',
                  f'<a class="next" href="{link(nxt)}"><span>Next</span>{html.escape(nxt["title"])}</a>' if nxt else ''])
    desc = f'<div class="description">{markdown2html(description)}</div>' if description else ''
    repo = f'<a class="repo" href="{cfg.git_url}">Repository</a>' if cfg.git_url else ''
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} – {html.escape(cfg.title)}</title>
<link rel="stylesheet" href="{prefix}site.css">
{head}</head>
<body>
<header class="navbar"><a class="brand" href="{prefix}index.html">{html.escape(cfg.title)}</a>{repo}</header>
<div class="layout">
<nav class="sidebar" aria-label="Chapters"><ul>{''.join(side)}</ul></nav>
<main>
<header class="title-block"><h1 class="title">{html.escape(title)}</h1>{desc}</header>
{body}
<nav class="pager" aria-label="Previous and next">{pn}</nav>
</main>
<aside class="toc">{'<h2>On this page</h2><ul>' + on_page + '</ul>' if on_page else ''}</aside>
</div>
</body>
</html>
"""

_css = """
:root { --accent: #2c6fbb; --border: #dee2e6; --muted: #6c757d; --code-bg: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.6 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: #212529; background: #fff; }
a { color: var(--accent); text-decoration: none; } a:hover { text-decoration: underline; }
.navbar { position: sticky; top: 0; z-index: 10; display: flex; align-items: center; gap: 1.5rem; height: 3.2rem;
          padding: 0 1.5rem; background: var(--accent); }
.navbar a { color: #fff; } .navbar .brand { font-weight: 600; font-size: 1.15rem; } .navbar .repo { margin-left: auto; }
.layout { display: grid; grid-template-columns: 210px minmax(0, 1fr) 200px; gap: 1.5rem; max-width: 1400px; margin: 0 auto;
          padding: 0 1.5rem; }
.sidebar, .toc { position: sticky; top: 3.2rem; align-self: start; max-height: calc(100vh - 3.2rem); overflow-y: auto;
                 padding: 1.5rem 0; font-size: .9rem; }
.sidebar ul, .toc ul { list-style: none; margin: 0; padding: 0; }
.sidebar li a { display: block; padding: .3rem .7rem; border-left: 3px solid transparent; color: #343a40; }
.sidebar li.current a { border-left-color: var(--accent); color: var(--accent); font-weight: 600; background: #f1f6fc; }
.toc h2 { font-size: .8rem; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); margin: 0 0 .5rem; }
.toc li a { display: block; padding: .15rem 0; color: #495057; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.toc li.toc-h3 a { padding-left: .9rem; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .8rem; }
main { min-width: 0; max-width: 880px; padding: 1.5rem 0 3rem; }
.title-block { margin-bottom: 1.5rem; padding-bottom: 1rem; border-bottom: 1px solid var(--border); }
h1.title { margin: .3rem 0 .5rem; font-size: 2.2rem; line-height: 1.2; }
.description p { margin: 0; color: var(--muted); font-size: 1.1rem; }
h2 { margin-top: 2.2rem; padding-bottom: .3rem; border-bottom: 1px solid var(--border); font-size: 1.6rem; }
h3 { margin-top: 1.6rem; font-size: 1.25rem; } h4 { font-size: 1.05rem; }
h1, h2, h3, h4 { scroll-margin-top: 4rem; }
a.anchor-link { visibility: hidden; margin-left: .4rem; color: var(--muted); font-weight: 400; }
h1:hover a.anchor-link, h2:hover a.anchor-link, h3:hover a.anchor-link, h4:hover a.anchor-link { visibility: visible; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: .86rem; }
:not(pre) > code { padding: .1em .3em; border-radius: 4px; background: #f1f3f5; color: #9a2a5b; }
a > code { color: inherit; }
pre { margin: 0; padding: .75rem 1rem; overflow-x: auto; line-height: 1.45; }
.highlight { margin: .6rem 0; border: 1px solid #e9ecef; border-left: 3px solid #adb5bd; border-radius: 4px; }
.highlight, .highlight pre { background: var(--code-bg); }
.cell { margin: .8rem 0; }
.output_area pre { background: #fff; border: 1px solid #e9ecef; border-radius: 4px; max-height: 30rem; }
.output_stderr pre { background: #fff5f5; border-color: #f5c2c7; }
.output_area img, .text_cell_render img { max-width: 100%; height: auto; }
.output_png, .output_svg, .output_jpeg { text-align: center; }
.rendered_html table, table { border-collapse: collapse; margin: 1rem 0; font-size: .92rem; }
th, td { border: 1px solid var(--border); padding: .35rem .7rem; text-align: left; vertical-align: top; }
thead th { background: #f8f9fa; }
hr { border: 0; border-top: 1px solid var(--border); margin: 2rem 0 1rem; }
details.code-fold > summary { cursor: pointer; color: var(--muted); font-size: .9rem; }
details.code-fold > .input, details.code-fold > div { margin-top: .2rem; }
.doc-link { float: right; font-size: .85rem; margin-top: .3rem; }
.katex-display { overflow-x: auto; overflow-y: hidden; padding: .2rem 0; }   /* a long formula scrolls, the page does not */
.pager { display: flex; justify-content: space-between; gap: 1rem; margin-top: 3rem; padding-top: 1rem;
         border-top: 1px solid var(--border); }
.pager a { display: flex; flex-direction: column; max-width: 48%; padding: .6rem 1rem; border: 1px solid var(--border);
           border-radius: 6px; font-weight: 600; }
.pager a span { color: var(--muted); font-size: .8rem; font-weight: 400; } .pager a.next { text-align: right; margin-left: auto; }
@media (max-width: 1200px) { .layout { grid-template-columns: 210px minmax(0, 1fr); } .toc { display: none; } }
@media (max-width: 760px) { .layout { display: block; } .sidebar { position: static; max-height: none; padding: .5rem 0;
                             border-bottom: 1px solid var(--border); } }
"""

def build_static_site(cfg, math:bool=True, katex=None) -> bool:
    "Render every notebook to `doc_path` as HTML with nbconvert (math by KaTeX unless `math` is False); True when all rendered."
    out = cfg.doc_path
    dist = katex_dist(katex) if math else None   # before the slow part: a missing KaTeX fails at once
    exporter = HTMLExporter(template_name='basic', extra_loaders=[DictLoader({'page.html.j2': _page_template})],
                            template_file='page.html.j2', exclude_input_prompt=True, exclude_output_prompt=True,
                            embed_images=True)
    pages, failed = [], []
    for src in notebooks(cfg):
        rel = src.relative_to(cfg.nbs_path)
        print(f'processing {rel}', flush=True)
        try:
            nb = process_notebook(src)
            front = page_cells(nb)
            body, _ = exporter.from_notebook_node(nb, resources={'metadata': {'path': str(src.parent)}})
        except Exception as e:
            failed.append(rel); print(f'ERROR in {rel}: {type(e).__name__}: {e}', file=sys.stderr); continue
        title = str(front.get('title') or rel.stem)
        pages.append(dict(href=nbpath2html(rel).as_posix(), title=title, description=front.get('description', ''),
                          body=body))
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    (out/'site.css').write_text(_css + HtmlFormatter(style='friendly').get_style_defs('.highlight'))
    (out/'.nojekyll').touch()
    if dist: install_katex(dist, out)
    for i, p in enumerate(pages):
        prefix = '../' * p['href'].count('/')
        body, toc = fix_headings(local_links(p['body'], cfg, prefix))
        dest = out/p['href']
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(_page(p['title'], p['description'], body, toc, pages, p, pages[i-1] if i else None,
                              pages[i+1] if i+1 < len(pages) else None, cfg, prefix, math_head(prefix) if dist else ''))
    print(f'wrote {len(pages)} pages to {out}/: ' + ', '.join(p['href'] for p in pages)
          + (f' (math: KaTeX from {dist})' if dist else ' (math left as TeX: --no-math)'))
    if failed: print(f'FAILED: {", ".join(map(str, failed))}', file=sys.stderr)
    return not failed

def build_quarto_site(cfg) -> bool:
    "nbdev's own docs build, for machines with Quarto."
    return subprocess.run([str(Path(sys.executable).parent/'nbdev-docs')], cwd=cfg.config_path).returncode == 0

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--readme', action='store_true', help='only write README.md')
    ap.add_argument('--static', action='store_true', help='build the nbconvert site even when Quarto is installed')
    ap.add_argument('--katex', metavar='DIR', help="KaTeX's dist/ folder to ship (default: $KATEX_DIST, else fetched with npm)")
    ap.add_argument('--no-math', action='store_true', help='do not ship KaTeX: math shows as TeX source')
    args = ap.parse_args()
    cfg = get_config()
    os.chdir(cfg.config_path)
    print(f'wrote {build_readme(cfg).relative_to(cfg.config_path)}')
    if args.readme: sys.exit(0)
    use_quarto = shutil.which('quarto') and not args.static
    print('building the site with ' + ('Quarto (nbdev-docs)' if use_quarto else 'nbconvert' + ('' if args.static else ' (no Quarto here)')))
    try: ok = build_quarto_site(cfg) if use_quarto else build_static_site(cfg, not args.no_math, args.katex)
    except MathUnavailable as e: sys.exit(f'build_docs: error: {e}')
    sys.exit(0 if ok else 1)
