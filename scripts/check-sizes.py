#!/usr/bin/python3
"""Size check: no source file over 1,200 lines, no function over 150 lines.

Scope: the C files (*.c, *.h) of the library and command folders (core/ data/
sim/ live/ reports/ cli/). Tests and benchmarks are not checked.

A function may be longer when the line just before its definition says why:

    /* tt:long-function: <reason> */

(meant for codec inner loops, where one body is faster or clearer than parts).

How functions are found: a small C lexer drops comments, strings, character
constants and preprocessor lines, and tracks brace depth. A `{` at depth 0
whose preceding declaration text ends in `)` and has no top-level `=` opens a
function body (an initializer `x[] = {` or a `struct s {` does not). A function
runs from the first line of its declaration to its closing brace, both
included. Every problem is printed as `path:line: message`; the exit status is
1 when there is any.

Usage: check-sizes.py [--root DIR] [--max-file N] [--max-function N]
"""
import argparse
import os
import re
import sys

FOLDERS = ("core", "data", "ml", "sim", "live", "reports", "cli", "api")
MARKER = re.compile(r"^\s*/\*\s*tt:long-function:\s*(.*?)\s*\*/\s*$")
IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def strip_code(text):
    """The text with comments, strings, character constants and preprocessor
    lines replaced by spaces; newlines are kept, so line numbers stay."""
    out = []
    i, n = 0, len(text)
    line_start = True
    while i < n:
        c = text[i]
        nxt = text[i + 1] if i + 1 < n else ""
        if c == "\n":
            out.append(c)
            line_start = True
            i += 1
            continue
        if line_start and c == "#":
            # A preprocessor line, with its backslash continuations.
            while i < n and text[i] != "\n":
                if text[i] == "\\" and i + 1 < n and text[i + 1] == "\n":
                    out.append("\n")
                    i += 2
                    continue
                i += 1
            continue
        if c in " \t\r\f\v":
            out.append(c)
            i += 1
            continue
        line_start = False
        if c == "/" and nxt == "*":
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("".join(ch if ch == "\n" else " " for ch in text[i:j]))
            i = j
            continue
        if c == "/" and nxt == "/":
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
            continue
        if c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(c + " " * (j - i - 2) + c if j - i >= 2 else " ")
            i = j
            continue
        out.append(c)
        i += 1
    return "".join(out)


def functions(text):
    """Yield (name, first_line, last_line) of each function definition."""
    code = strip_code(text)
    depth = 0
    line = 1
    decl = []  # the declaration text at depth 0 since the last ';' or '}'
    decl_line = None
    start = None  # (name, first_line) of the function whose body is open
    for c in code:
        if c == "\n":
            line += 1
            if depth == 0 and decl:
                decl.append(" ")
            continue
        if depth == 0:
            if c == "{":
                head = "".join(decl).strip()
                if is_function_head(head):
                    start = (function_name(head), decl_line)
                else:
                    start = None
                depth = 1
                decl, decl_line = [], None
            elif c in ";}":
                decl, decl_line = [], None
            else:
                if decl_line is None and not c.isspace():
                    decl_line = line
                if decl_line is not None:
                    decl.append(c)
        else:
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    if start:
                        yield start[0], start[1], line
                    start = None


def is_function_head(head):
    if not head.endswith(")") or "(" not in head:
        return False
    level = 0
    for c in head:
        if c in "([":
            level += 1
        elif c in ")]":
            level -= 1
        elif c == "=" and level == 0:
            return False
    return True


def function_name(head):
    names = IDENT.findall(head[: head.index("(")])
    return names[-1] if names else "?"


def check_file(path, rel, max_file, max_function, problems):
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()
    if len(lines) > max_file:
        problems.append(
            f"{rel}:{max_file + 1}: file is {len(lines)} lines (limit {max_file}): split it"
        )
    for name, first, last in functions(text):
        size = last - first + 1
        before = lines[first - 2] if first >= 2 else ""
        m = MARKER.match(before)
        if m and not m.group(1):
            problems.append(f"{rel}:{first - 1}: tt:long-function marker without a reason")
        elif size > max_function and not m:
            problems.append(
                f"{rel}:{first}: function {name} is {size} lines (limit {max_function}); "
                f"split it, or say why on the line before: /* tt:long-function: <reason> */"
            )


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap.add_argument("--max-file", type=int, default=1200)
    ap.add_argument("--max-function", type=int, default=150)
    a = ap.parse_args()
    problems = []
    nfiles = 0
    for folder in FOLDERS:
        top = os.path.join(a.root, folder)
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames.sort()
            for fn in sorted(filenames):
                if fn.endswith((".c", ".h")):
                    path = os.path.join(dirpath, fn)
                    rel = os.path.relpath(path, a.root)
                    check_file(path, rel, a.max_file, a.max_function, problems)
                    nfiles += 1
    for p in problems:
        print(p)
    if problems:
        print(f"check-sizes: {len(problems)} problem(s) in {nfiles} files", file=sys.stderr)
        return 1
    print(f"check-sizes: ok ({nfiles} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
