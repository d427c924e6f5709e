"""Check the built site (_docs/) in headless Chromium: every notebook has a page linked from the index, each linked
page opens and shows its notebook's title, no `#|` directive or hidden cell leaks, the math of every chapter that has
some is typeset (KaTeX elements, no KaTeX error, no `$...$` TeX left in the text), and screenshots of the index, of a
chapter reached by following a link from the index, and of the first page with math are saved.

    python tools/check_docs.py [--out build/docs-check]     # after `python tools/build_docs.py`
"""
import argparse, html, json, re, shutil, subprocess, sys, tempfile
from pathlib import Path

# Python puts this script's folder first on sys.path: tools/run_nbs.py would then hide the execnb package nbdev imports
sys.path[:] = [p for p in sys.path if Path(p or '.').resolve() != Path(__file__).resolve().parent]
from nbdev.config import get_config, nbpath2html
from nbdev.doclinks import nbglob

def chromium() -> str:
    for name in ('chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'):
        if shutil.which(name): return shutil.which(name)
    sys.exit('Chromium not found: install it (Debian: apt-get install -y chromium)')

def run_chromium(url:str, *args) -> str:
    "Load `url` in a fresh headless Chromium profile; return what it writes to stdout."
    with tempfile.TemporaryDirectory() as profile:
        cmd = [chromium(), '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
               '--disable-background-networking', '--disable-component-update', '--disable-sync', '--hide-scrollbars',
               f'--user-data-dir={profile}', '--window-size=1280,900', *args, url]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if res.returncode: sys.exit(f'Chromium failed on {url}:\n{res.stderr[-2000:]}')
    return res.stdout

def dom(page:Path) -> str: return run_chromium(page.as_uri(), '--virtual-time-budget=10000', '--dump-dom')

def screenshot(page:Path, png:Path):
    run_chromium(page.as_uri(), '--virtual-time-budget=10000', f'--screenshot={png}')
    if not png.exists() or png.stat().st_size < 10_000: sys.exit(f'No usable screenshot of {page} at {png}')
    print(f'screenshot {png} ({png.stat().st_size // 1024} KiB)')

def notebook_title(nb:Path) -> str:
    "The notebook's first `# Title` heading (its file name when it has none)."
    for cell in json.loads(nb.read_text())['cells']:
        if cell['cell_type'] != 'markdown': continue
        m = re.search(r'^#\s+(.+?)\s*$', ''.join(cell['source']), re.MULTILINE)
        if m: return m.group(1)
    return nb.stem

def hidden_sources(nb:Path) -> list:
    "The code of the notebook's `#| hide` cells, which must not show on its page."
    res = []
    for cell in json.loads(nb.read_text())['cells']:
        lines = ''.join(cell['source']).splitlines()
        if cell['cell_type'] == 'code' and any(re.match(r'#\|\s*hide\s*$', l) for l in lines):
            body = '\n'.join(l for l in lines if not l.startswith('#|')).strip()
            if body: res.append(body)
    return res

def text_of(s:str) -> str: return html.unescape(re.sub(r'<[^>]+>', '', s)).strip()

_re_math = re.compile(r'\$\$.+?\$\$|\$[^$\s][^$\n]*?\$|\\\(.+?\\\)|\\\[.+?\\\]', re.DOTALL)

def _without_code(md:str) -> str:
    "Markdown with its fenced code blocks and inline code spans removed (`$` there is shell or Python, not math)."
    return re.sub(r'`[^`\n]*`', ' ', re.sub(r'^(```|~~~).*?^\1', ' ', md, flags=re.M | re.S))

def has_math(nb:Path) -> bool:
    "Does the prose of a Markdown cell of the notebook hold TeX math (`$...$`, `$$...$$`, `\\(...\\)`, `\\[...\\]`)?"
    return any(c['cell_type'] == 'markdown' and _re_math.search(_without_code(''.join(c['source'])))
               for c in json.loads(nb.read_text())['cells'])

def prose_text(d:str) -> str:
    "The page's visible text outside code, outputs in <pre>, scripts and typeset math."
    d = re.sub(r'<(script|style|pre|code|annotation)\b.*?</\1>', ' ', d, flags=re.DOTALL)
    return html.unescape(re.sub(r'<[^>]+>', ' ', d))

def n_formulas(d:str) -> int: return len(re.findall(r'class="katex"', d))

def math_errors(href:str, d:str) -> list:
    "What is wrong with the math of a page that should have some: not typeset, KaTeX errors, raw TeX left."
    errs = []
    if not n_formulas(d): errs.append(f'{href}: its notebook has math but the page has no typeset (.katex) element')
    bad = re.findall(r'class="katex-error"[^>]*title="([^"]*)"', d)
    if bad: errs.append(f'{href}: KaTeX could not typeset {len(bad)} formula(s): {html.unescape(bad[0])[:200]}')
    raw = [m.group(0) for m in _re_math.finditer(prose_text(d))]
    if raw: errs.append(f'{href}: {len(raw)} formula(s) left as TeX in the text, e.g. {raw[0][:80]!r}')
    return errs

def main(out:Path):
    cfg = get_config()
    site = cfg.doc_path
    index = site/'index.html'
    if not index.exists(): sys.exit(f'{index} not found: run `make docs` first')
    errors = []
    sources = {nbpath2html(nb.relative_to(cfg.nbs_path)).as_posix(): nb for nb in nbglob(cfg.nbs_path, func=Path)}
    expected = {href: notebook_title(nb) for href, nb in sources.items()}

    math_pages = []
    index_dom = dom(index)
    sidebar = re.search(r'<nav\b[^>]*\bsidebar\b[^>]*>.*?</nav>', index_dom, re.DOTALL)   # ours or Quarto's
    if not sidebar: sys.exit('The index has no sidebar navigation')
    hrefs = [h.removeprefix('./') for h in re.findall(r'<a\b[^>]*?\bhref="([^"#]+)"', sidebar.group(0))]
    linked = list(dict.fromkeys(h for h in hrefs if not re.match(r'[a-z]+:', h)))
    print(f'index links to {len(linked)} pages: {", ".join(linked)}')
    for href in sorted(set(expected) - set(linked)): errors.append(f'the index does not link to {href}')

    for href in linked:
        page = site/href
        if not page.exists(): errors.append(f'{href} is linked from the index but does not exist'); continue
        d, n_errors = dom(page), len(errors)
        h1 = re.search(r'<h1 class="title"[^>]*>(.*?)</h1>', d, re.DOTALL)
        want = expected.get(href)
        if not h1 or (want and text_of(h1.group(1)) != want):
            errors.append(f'{href}: title {text_of(h1.group(1)) if h1 else None!r}, expected {want!r}')
        code = '\n'.join(text_of(p) for p in re.findall(r'<pre\b[^>]*>(.*?)</pre>', d, re.DOTALL))
        if re.search(r'^#\|', code, re.MULTILINE): errors.append(f'{href}: a `#|` directive line is shown')
        if any(h in code for h in hidden_sources(sources[href])) if href in sources else False:
            errors.append(f'{href}: a `#| hide` cell is shown')
        math = href in sources and has_math(sources[href])
        if math:
            errors += math_errors(href, d)
            math_pages.append(href)
        n_math = f'; {n_formulas(d)} formulas typeset' if math else ''
        print(f'{href}: {"ok" if len(errors) == n_errors else "FAILED"} ({text_of(h1.group(1)) if h1 else "no title"}{n_math})')
    if not math_pages: errors.append('no chapter has math: the math check checked nothing (has_math broken?)')

    out.mkdir(parents=True, exist_ok=True)
    screenshot(index, out/'index.png')
    chapter = next((h for h in linked if h != 'index.html'), None)
    if chapter: screenshot(site/chapter, out/f'{Path(chapter).stem}.png')   # the page a click on the index reaches
    if math_pages and math_pages[0] != chapter: screenshot(site/math_pages[0], out/f'{Path(math_pages[0]).stem}.png')
    if errors: sys.exit('docs check FAILED:\n  ' + '\n  '.join(errors))
    print(f'docs check passed: {len(linked)} pages, screenshots in {out}/')

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--out', type=Path, default=Path('build/docs-check'), help='folder for the screenshots')
    main(ap.parse_args().out)
