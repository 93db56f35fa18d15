#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Symbol-leak check of the shared library.

usage: check-symbols.py NM LIBRARY MAPFILE SRCDIR

Fails when
- the library exports a dynamic symbol that is not vb_* (or a version node of MAPFILE);
- a function defined VB_EXPORT under SRCDIR is missing from MAPFILE (the version
  script's "local: *" would hide it silently);
- MAPFILE names something no source defines VB_EXPORT (a stale entry), lists a name
  twice, or is not sorted within a node;
- a name of MAPFILE is exported without being VB_EXPORT in the sources.
A name that is VB_EXPORT and in MAPFILE but compiled out of this configuration (e.g.
packed rings off) is reported as information only.
"""
import os
import re
import subprocess
import sys

# VB_EXPORT on a function definition or on an object ("VB_EXPORT const struct x name = {").
EXPORT_DEF = re.compile(r'\bVB_EXPORT\b[^;{}()=]*?\b(\w+)\s*[(=\[;]', re.S)
NODE_OPEN = re.compile(r'^\s*([A-Za-z_][\w.]*)\s*\{')
NAME = re.compile(r'^\s*([A-Za-z_]\w*)\s*;')


def parse_map(path):
    """Return (nodes, [(node, name)]) from a GNU ld version script."""
    nodes, names = [], []
    node, section = None, None
    with open(path, encoding='utf-8') as f:
        for raw in f:
            line = re.sub(r'/\*.*?\*/', '', raw).split('#')[0]
            m = NODE_OPEN.match(line)
            if m:
                node, section = m.group(1), None
                nodes.append(node)
                continue
            s = line.strip()
            if s.startswith('}'):
                node = None
                continue
            if s in ('global:', 'local:'):
                section = s[:-1]
                continue
            m = NAME.match(line)
            if m and node and section == 'global':
                names.append((node, m.group(1)))
    return nodes, names


def exported_in_sources(srcdir):
    found = {}
    for dirpath, _, files in os.walk(srcdir):
        for fn in sorted(files):
            if not fn.endswith('.c'):
                continue
            path = os.path.join(dirpath, fn)
            with open(path, encoding='utf-8') as f:
                text = f.read()
            for m in EXPORT_DEF.finditer(text):
                found.setdefault(m.group(1), os.path.relpath(path, srcdir))
    return found


def dynamic_symbols(nm, lib):
    out = subprocess.run([nm, '-D', '--defined-only', lib], check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    syms = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2:
            syms.append((parts[-2], parts[-1].split('@')[0]))
    return syms


def main(argv):
    if len(argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    nm, lib, mapfile, srcdir = argv[1:]
    errors, notes = [], []

    nodes, map_entries = parse_map(mapfile)
    map_names = [n for _, n in map_entries]
    seen = set()
    for node in nodes:
        in_node = [n for nd, n in map_entries if nd == node]
        if in_node != sorted(in_node):
            errors.append(f'{os.path.basename(mapfile)}: names of node {node} are not sorted')
    for n in map_names:
        if n in seen:
            errors.append(f'{os.path.basename(mapfile)}: {n} listed twice')
        seen.add(n)

    src_exports = exported_in_sources(srcdir)
    dyn = dynamic_symbols(nm, lib)
    dyn_names = {name for _, name in dyn}

    for typ, name in dyn:
        if typ == 'A' and name in nodes:
            continue
        if not name.startswith('vb_'):
            errors.append(f'leak: {name} ({typ}) is exported but is not vb_*')
        elif name not in src_exports:
            errors.append(f'{name} is exported but defined without VB_EXPORT')
    for name, where in sorted(src_exports.items()):
        if name not in seen:
            errors.append(f'{where}: {name} is VB_EXPORT but missing from '
                          f'{os.path.basename(mapfile)} (it would stay hidden)')
        elif not name.startswith('vb_'):
            errors.append(f'{where}: {name} is VB_EXPORT but not vb_*')
    for name in map_names:
        if name not in src_exports:
            errors.append(f'{os.path.basename(mapfile)}: {name} is not defined VB_EXPORT '
                          f'anywhere under {srcdir} (stale entry?)')
        elif name not in dyn_names:
            notes.append(f'{name}: in the map, compiled out of this configuration')

    exported = sorted(n for t, n in dyn if not (t == 'A' and n in nodes))
    print(f'{os.path.basename(lib)}: {len(exported)} exported symbols, '
          f'nodes {", ".join(nodes) or "(none)"}')
    for n in notes:
        print('note: ' + n)
    for e in errors:
        print('FAIL: ' + e)
    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
