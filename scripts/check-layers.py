#!/usr/bin/python3
"""Layer check: every `#include "..."` in core/ data/ sim/ live/ reports/ cli/
points at a layer the including folder may use.

The rule is the table in docs/architecture.md, section "Layers": one row per
folder, the second column lists the folders it may use (`core/`, `data/`, ...,
or "everything", or "—" for none); further columns are prose. A folder may
always use itself. The table is checked too: every name in it must be a row,
and the uses must form no cycle. README.md's "Dependencies point down only:"
line must agree with the table: each folder may use every folder of the group
just before it, and no folder may use one at its own place or after it.

An include is resolved as the compiler does here: next to the including file,
then from the project root; a generated protobuf header (`name.pb-c.h`) is a
use of proto/ when proto/name.proto exists. An include that resolves to no
file is an error too (it could hide a use).

Every problem is printed as `path:line: message`; the exit status is 1 when
there is any. Usage: check-layers.py [--root DIR]
"""
import argparse
import os
import re
import sys

CHECKED = ("core", "data", "ml", "sim", "live", "reports", "cli", "api")
INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')
CHAIN_PREFIX = "Dependencies point down only:"


def parse_table(path, problems):
    """{folder: set of folders it may use}, from the "Layers" section."""
    rel = "docs/architecture.md"
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
    except OSError as e:
        problems.append(f"{rel}:1: cannot read the layer table: {e.strerror}")
        return None
    in_section = False
    rows = {}  # folder -> (line number, raw "may use" cell)
    for no, text in enumerate(lines, 1):
        if text.startswith("## "):
            in_section = text.strip() == "## Layers"
            continue
        if not in_section or not text.startswith("|"):
            continue
        cells = [c.strip() for c in text.strip().strip("|").split("|")]
        if len(cells) < 2 or set(cells[0]) <= set("-: ") or cells[0].lower() == "folder":
            continue
        folder = cells[0].strip("`").rstrip("/")
        rows[folder] = (no, cells[1])
    if not rows:
        problems.append(f"{rel}:1: no layer table (a '## Layers' section with a table)")
        return None
    table = {}
    for folder, (no, cell) in rows.items():
        uses = set()
        word = cell.strip().lower()
        if word == "everything":
            uses = set(rows) - {folder}
        elif word not in ("—", "-", "nothing", ""):
            for item in cell.split(","):
                name = item.strip().strip("`").rstrip("/")
                if name not in rows:
                    problems.append(f"{rel}:{no}: {folder}/ may use '{item.strip()}', "
                                    f"which is not a folder of the table")
                else:
                    uses.add(name)
        table[folder] = uses
    # No cycles: a layer may not (through others) use itself.
    for start in table:
        seen, todo = set(), list(table[start])
        while todo:
            x = todo.pop()
            if x == start:
                problems.append(f"{rel}:{rows[start][0]}: {start}/ uses itself through the table "
                                f"(a cycle)")
                break
            if x not in seen:
                seen.add(x)
                todo.extend(table.get(x, ()))
    return table


def check_readme(path, table, problems):
    """README's chain "a ← b, c ← d" agrees with the table."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
    except OSError:
        return
    for no, text in enumerate(lines, 1):
        if not text.startswith(CHAIN_PREFIX):
            continue
        chain = text[len(CHAIN_PREFIX):].strip().rstrip(".")
        groups = [[n.strip().strip("`").rstrip("/") for n in g.split(",")]
                  for g in chain.split("←")]
        place = {}
        for i, g in enumerate(groups):
            for name in g:
                if name not in table:
                    problems.append(f"README.md:{no}: '{name}' is not a folder of the layer table")
                place[name] = i
        for folder, uses in table.items():
            for used in uses:
                if folder in place and used in place and place[used] >= place[folder]:
                    problems.append(f"README.md:{no}: the table lets {folder}/ use {used}/, "
                                    f"but the line puts {used} at or above {folder}")
        for i in range(1, len(groups)):
            for upper in groups[i]:
                for lower in groups[i - 1]:
                    if upper in table and lower not in table[upper]:
                        problems.append(f"README.md:{no}: the line says {upper} uses {lower}, "
                                        f"the table does not let it")
        missing = set(table) - set(place)
        if missing:
            problems.append(f"README.md:{no}: the line leaves out {', '.join(sorted(missing))}")
        return
    problems.append(f"README.md:1: no line starting '{CHAIN_PREFIX}'")


def layer_of(target, root, folders):
    rel = os.path.relpath(target, root)
    top = rel.split(os.sep)[0]
    return top if top in folders else None


def resolve(inc, src_dir, root):
    for base in (src_dir, root):
        p = os.path.normpath(os.path.join(base, inc))
        if os.path.isfile(p):
            return p
    return None


def check_includes(root, table, problems):
    folders = set(table)
    nfiles = nincs = 0
    for folder in CHECKED:
        if not os.path.isdir(os.path.join(root, folder)):
            continue
        allowed = table.get(folder)
        if allowed is None:
            problems.append(f"docs/architecture.md:1: the layer table has no row for {folder}/")
            continue
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, folder)):
            dirnames.sort()
            for fn in sorted(filenames):
                if not fn.endswith((".c", ".h")):
                    continue
                path = os.path.join(dirpath, fn)
                rel = os.path.relpath(path, root)
                nfiles += 1
                with open(path, encoding="utf-8", errors="replace") as f:
                    for no, text in enumerate(f, 1):
                        m = INCLUDE.match(text)
                        if not m:
                            continue
                        nincs += 1
                        inc = m.group(1)
                        target = resolve(inc, dirpath, root)
                        if inc.endswith(".pb-c.h") and target is None:
                            proto = os.path.join(root, "proto", inc[: -len(".pb-c.h")] + ".proto")
                            used = "proto" if os.path.isfile(proto) else None
                            if used is None:
                                problems.append(f"{rel}:{no}: \"{inc}\": no proto/"
                                                f"{inc[:-len('.pb-c.h')]}.proto generates it")
                                continue
                        elif target is None:
                            problems.append(f"{rel}:{no}: \"{inc}\" resolves to no file "
                                            f"(use <...> for a system header)")
                            continue
                        else:
                            used = layer_of(target, root, folders)
                        if used == folder:
                            continue
                        if used is None:
                            problems.append(f"{rel}:{no}: \"{inc}\" is outside every layer of the "
                                            f"table in docs/architecture.md")
                        elif used not in allowed:
                            may = ", ".join(sorted(allowed)) or "nothing"
                            problems.append(f"{rel}:{no}: {folder}/ may not use {used}/ "
                                            f"(\"{inc}\"); it may use: {may} "
                                            f"(docs/architecture.md, Layers)")
    return nfiles, nincs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    a = ap.parse_args()
    root = os.path.abspath(a.root)
    problems = []
    table = parse_table(os.path.join(root, "docs", "architecture.md"), problems)
    nfiles = nincs = 0
    if table is not None:
        check_readme(os.path.join(root, "README.md"), table, problems)
        nfiles, nincs = check_includes(root, table, problems)
    for p in problems:
        print(p)
    if problems:
        print(f"check-layers: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print(f"check-layers: ok ({nincs} includes in {nfiles} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
