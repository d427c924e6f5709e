"""Lossless packing of dataset categories for a trip to a GPU machine (at most 64 MiB travel, project included).

    python tools/pack_data.py pack ../shared/data/mvtec_ad bottle pill --dest .gpu-data   # here: one DEST/<cat>.tar each
    python tools/pack_data.py unpack .gpu-data/bottle.tar --dest /tmp/data                # there: DEST/bottle/..., verified
    python tools/pack_data.py verify ../shared/data/mvtec_ad .gpu-data/bottle.tar         # here: unpack and compare with SRC

Every PNG is re-encoded as lossless WebP (method 6: the smallest, about 1.5 s an image on one core) unless that is not
smaller, in which case the PNG travels as it is; other files travel as they are. `unpack` writes PNGs again and checks
every image's decoded pixels (mode, size and a SHA-256 of the pixel bytes) against the manifest written at packing time,
which in turn was checked against the original PNG: what the data loader reads there is pixel-identical to what it
reads here. A mismatch stops `unpack` with exit status 1. Packs are plain tar files (WebP is compressed already).
"""
import argparse, hashlib, io, json, sys, tarfile, time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from PIL import Image

def pixel_digest(im:Image.Image) -> str:
    "SHA-256 of an image's mode, size and pixel bytes: equal digests, equal pixels."
    return hashlib.sha256(f"{im.mode} {im.size}".encode() + im.tobytes()).hexdigest()

def encode(path:Path, method:int=6) -> tuple:
    "(bytes to store, stored name suffix, manifest entry) for one file; PNGs as lossless WebP when that is smaller."
    raw = path.read_bytes()
    if path.suffix.lower() != '.png': return raw, '', None
    with Image.open(io.BytesIO(raw)) as im:
        im.load(); entry = dict(mode=im.mode, size=list(im.size), digest=pixel_digest(im))
        if im.mode not in ('RGB', 'L'): return raw, '', entry            # keep other modes (alpha, 16 bit, palette) as PNG
        buf = io.BytesIO(); im.save(buf, 'WEBP', lossless=True, quality=100, method=method)
    webp = buf.getvalue()
    if len(webp) >= len(raw): return raw, '', entry
    if decode(webp, entry['mode']) != entry['digest']: return raw, '', entry   # never trust an encoder blindly
    return webp, '.webp', entry

def decode(data:bytes, mode:str) -> str:
    "Pixel digest of stored WebP bytes decoded to `mode`."
    with Image.open(io.BytesIO(data)) as im: return pixel_digest(im.convert(mode))

def _encode_one(args):
    path, rel, method = args
    data, suffix, entry = encode(Path(path), method)
    return rel, data, suffix, entry

def pack(src, categories, dest='.gpu-data', method:int=6, workers:int=1) -> dict:
    "Write DEST/<category>.tar for each category of SRC; returns {category: (raw bytes, packed bytes)}."
    src, dest = Path(src), Path(dest); dest.mkdir(parents=True, exist_ok=True); sizes = {}
    for cat in categories:
        files = sorted(p for p in (src/cat).rglob('*') if p.is_file())
        if not files: sys.exit(f"pack_data: no files under {src/cat}")
        t0, manifest = time.time(), {}
        jobs = [(str(p), str(p.relative_to(src)), method) for p in files]
        tmp = dest/f'{cat}.tar.part'
        with tarfile.open(tmp, 'w') as tar, ProcessPoolExecutor(workers) as ex:
            for rel, data, suffix, entry in ex.map(_encode_one, jobs, chunksize=4):
                info = tarfile.TarInfo(rel + suffix); info.size = len(data); info.mtime = 0
                tar.addfile(info, io.BytesIO(data))
                if entry: manifest[rel] = dict(entry, stored=rel + suffix)
            blob = json.dumps(dict(category=cat, files=manifest), indent=0).encode()
            info = tarfile.TarInfo(f'{cat}/.pack-manifest.json'); info.size = len(blob); tar.addfile(info, io.BytesIO(blob))
        tmp.replace(dest/f'{cat}.tar')
        sizes[cat] = (sum(p.stat().st_size for p in files), (dest/f'{cat}.tar').stat().st_size)
        print(f"{cat}: {len(files)} files, {sizes[cat][0] / 2**20:.1f} MiB -> {sizes[cat][1] / 2**20:.1f} MiB "
              f"({sizes[cat][1] / sizes[cat][0]:.1%}) in {time.time() - t0:.0f} s: {dest/f'{cat}.tar'}", flush=True)
    return sizes

def unpack(packs, dest) -> int:
    "Extract packs into DEST, writing PNGs again; returns the number of images whose pixels do not match (0: all match)."
    dest, bad = Path(dest), 0
    for pk in packs:
        with tarfile.open(pk) as tar:
            names = tar.getnames()
            man = json.loads(tar.extractfile(next(n for n in names if n.endswith('/.pack-manifest.json'))).read())['files']
            stored = {e['stored']: (rel, e) for rel, e in man.items()}
            n = 0
            for m in tar.getmembers():
                if not m.isfile() or m.name.endswith('/.pack-manifest.json'): continue
                if Path(m.name).is_absolute() or '..' in Path(m.name).parts: sys.exit(f"pack_data: {pk}: unsafe path {m.name}")
                data = tar.extractfile(m).read()
                rel, entry = stored.get(m.name, (m.name, None))
                out = dest/rel; out.parent.mkdir(parents=True, exist_ok=True)
                if entry is None: out.write_bytes(data); continue
                with Image.open(io.BytesIO(data)) as im:
                    im = im.convert(entry['mode'])
                    if pixel_digest(im) != entry['digest']: bad += 1; print(f"pack_data: {rel}: pixels differ", file=sys.stderr)
                    if m.name != rel: im.save(out, 'PNG', compress_level=1)
                    else: out.write_bytes(data)
                n += 1
            print(f"{pk}: {n} images unpacked into {dest}, {len(man)} in the manifest")
            if n != len(man): bad += len(man) - n
    return bad

def verify(src, pack) -> int:
    "Unpack into a temporary folder and compare every file with SRC's: decoded pixels for images, bytes for the rest."
    import tempfile
    import numpy as np
    src = Path(src)
    with tempfile.TemporaryDirectory() as tmp:
        bad = unpack([pack], tmp)
        out = Path(tmp)
        cat = next(p.name for p in out.iterdir())
        a = sorted(p.relative_to(src) for p in (src/cat).rglob('*') if p.is_file())
        b = sorted(p.relative_to(out) for p in (out/cat).rglob('*') if p.is_file())
        if a != b: print(f"pack_data: file lists differ: {sorted(set(a) ^ set(b))[:5]}", file=sys.stderr); return 1
        n_img = 0
        for rel in a:
            if rel.suffix.lower() == '.png':
                with Image.open(src/rel) as x, Image.open(out/rel) as y:
                    same = x.mode == y.mode and np.array_equal(np.asarray(x), np.asarray(y)); n_img += 1
            else: same = (src/rel).read_bytes() == (out/rel).read_bytes()
            if not same: bad += 1; print(f"pack_data: {rel} differs", file=sys.stderr)
        print(f"{pack}: {len(a)} files ({n_img} images) compared with {src/cat}: {'all identical' if not bad else f'{bad} differ'}")
    return bad

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest='cmd', required=True)
    a = sub.add_parser('pack'); a.add_argument('src'); a.add_argument('categories', nargs='+'); a.add_argument('--dest', default='.gpu-data')
    a.add_argument('--method', type=int, default=6); a.add_argument('--workers', type=int, default=1)
    b = sub.add_parser('unpack'); b.add_argument('packs', nargs='+'); b.add_argument('--dest', required=True)
    v = sub.add_parser('verify'); v.add_argument('src'); v.add_argument('pack')
    args = p.parse_args()
    if args.cmd == 'pack': pack(args.src, args.categories, args.dest, args.method, args.workers)
    elif args.cmd == 'verify': sys.exit(1 if verify(args.src, args.pack) else 0)
    else: sys.exit(1 if unpack(args.packs, args.dest) else 0)
