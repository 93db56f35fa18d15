#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Compile one public header alone, as C11 (pedantic) or as C++11.

usage: header-alone.py {c|c++} INCLUDE_DIR HEADER -- COMPILER [ARGS...]

The translation unit includes HEADER twice (the include guard must hold) and nothing
else, so a header that leans on something its includer happened to include first fails.
In C++ mode a header that declares functions must also give them C linkage.
"""
import os
import re
import subprocess
import sys
import tempfile

C_FLAGS = ['-std=c11', '-pedantic', '-Werror', '-Wall', '-Wextra', '-Wconversion',
           '-Wshadow', '-Wstrict-prototypes', '-Wundef', '-Wcast-qual']
CXX_FLAGS = ['-std=c++11', '-pedantic', '-Werror', '-Wall', '-Wextra', '-Wshadow',
             '-Wundef', '-Wcast-qual', '-Wold-style-cast']

# A file-scope function declaration: a line that starts with a type and has "vb_name(".
PROTO = re.compile(r'^(?!static\b|#|\s)[A-Za-z_][\w \t\*]*\bvb_\w+\s*\(', re.M)


def main(argv):
    if len(argv) < 6 or argv[4] != '--' or argv[1] not in ('c', 'c++'):
        print(__doc__, file=sys.stderr)
        return 2
    lang, incdir, header, compiler = argv[1], argv[2], argv[3], argv[5:]
    path = os.path.join(incdir, header)
    with open(path, encoding='utf-8') as f:
        text = f.read()

    if lang == 'c++' and PROTO.search(text) and 'extern "C"' not in text:
        print(f'{header}: declares functions but has no extern "C" block for C++')
        return 1

    suffix = '.c' if lang == 'c' else '.cc'
    flags = C_FLAGS if lang == 'c' else CXX_FLAGS
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, 'header-alone' + suffix)
        with open(src, 'w', encoding='utf-8') as f:
            f.write(f'#include <{header}>\n#include <{header}>\n')
            # ISO C forbids an empty translation unit (a header of macros only).
            f.write('typedef int vbt_header_alone_nonempty;\n')
        cmd = compiler + flags + ['-fsyntax-only', '-I', incdir, src]
        print(' '.join(cmd))
        res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        sys.stdout.write(res.stdout)
        if res.returncode != 0:
            print(f'{header}: does not compile alone as {lang}')
            return 1
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
