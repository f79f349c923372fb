#!/usr/bin/env python3
# tests/unit/ew_vectors.py - turn tests/data/headers/rfc2047-vectors.json
# into a C header for tests/unit/test_ew.c: one row per vector, each
# string an exact-length literal (every byte outside [A-Za-z0-9 ] as a
# three-digit octal escape, so no escape runs into the next byte).
# Usage: ew_vectors.py vectors.json out.h
import json
import sys


def lit(s):
    b = s.encode('utf-8')
    out = []
    for c in b:
        ch = chr(c)
        if ch.isascii() and (ch.isalnum() or ch == ' '):
            out.append(ch)
        else:
            out.append('\\%03o' % c)
    return '"%s", %d' % (''.join(out), len(b))


def main():
    with open(sys.argv[1], encoding='utf-8') as f:
        doc = json.load(f)
    rows = []
    for v in doc['vectors']:
        rows.append('\t{ %s, %s, %s, %s },' % (
            lit(v['group']), lit(v['id']), lit(v['input']),
            lit(v['expected'])))
    text = ('/* generated from rfc2047-vectors.json by ew_vectors.py */\n'
            'static const struct ew_vector {\n'
            '\tconst char *group; size_t grouplen;\n'
            '\tconst char *id; size_t idlen;\n'
            '\tconst char *input; size_t inputlen;\n'
            '\tconst char *expected; size_t expectedlen;\n'
            '} ew_vectors[] = {\n' + '\n'.join(rows) + '\n};\n')
    with open(sys.argv[2], 'w', encoding='ascii') as f:
        f.write(text)


if __name__ == '__main__':
    main()
