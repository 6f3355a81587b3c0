#!/usr/bin/python3
"""The guardrail checkers of `make check`, each on tiny fixture trees.

Each checker must fail on a tree with one violation, naming the file and the
line, and pass on the same tree without it:

  layers   an upward include (core/ including data/), an include that
           resolves to no file, a protobuf header without its .proto, a cycle
           in the table, a README line that disagrees with the table;
  sizes    a 151-line function (150 passes), a 1,201-line file (1,200
           passes), a long function with the tt:long-function marker (passes)
           and with an empty reason (fails);
  format   a git repository whose .ci/format-base is its first commit: an
           unformatted file untouched since then passes; one committed,
           changed but uncommitted, or new and untracked after it fails; an
           explicit BASE after the bad commit passes again.

Fixtures are built in a temporary directory, so no badly formatted or
oversized file is ever part of the project itself.

Usage: checkers_test.py SOURCE_DIR
"""
import os
import shutil
import subprocess
import sys
import tempfile

SRC = os.path.abspath(sys.argv[1])
PY = "/usr/bin/python3"
failures = []


def check(cond, what, out=""):
    """Record one assertion; a checker's output is shown when it fails."""
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        print("     checker said:\n       " + out.strip().replace("\n", "\n       "))
        failures.append(what)


def run(cmd, cwd=None):
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


def write(root, rel, text):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def remove(root, rel):
    os.remove(os.path.join(root, rel))


# ---- layers ----------------------------------------------------------------

ARCH = """# Fixture

## Layers

| folder | may use | why |
| --- | --- | --- |
| `core/` | — | bottom |
| `proto/` | — | schemas |
| `data/` | `core/`, `proto/` | above core |
| `cli/` | everything | top |

## Next section

| folder | may use |
| --- | --- |
| `core/` | `cli/` |
"""
README = "Dependencies point down only: core, proto ← data ← cli.\n"


def layers_tree(tmp):
    root = os.path.join(tmp, "layers")
    write(root, "docs/architecture.md", ARCH)
    write(root, "README.md", README)
    write(root, "proto/msg.proto", 'syntax = "proto3";\n')
    write(root, "core/a.h", "int a(void);\n")
    write(root, "core/a.c", '#include "a.h"\n#include <stdio.h>\nint a(void) { return 1; }\n')
    write(root, "data/b.h", '#include "../core/a.h"\n')
    write(root, "data/b.c", '#include "b.h"\n#include "core/a.h"\n#include "msg.pb-c.h"\n')
    write(root, "cli/main.c", '#include "data/b.h"\n#include "../core/a.h"\n')
    return root


def layers(root):
    return run([PY, os.path.join(SRC, "scripts/check-layers.py"), "--root", root])


def test_layers(tmp):
    root = layers_tree(tmp)
    rc, out = layers(root)
    check(rc == 0 and "check-layers: ok" in out, "layers: clean tree passes", out)

    write(root, "core/c.c", '#include "a.h"\n\n#include "../data/b.h"\n')
    rc, out = layers(root)
    check(rc == 1 and "core/c.c:3: core/ may not use data/" in out,
          "layers: an upward include fails, naming core/c.c:3", out)
    remove(root, "core/c.c")

    write(root, "data/d.c", '#include "b.h"\n#include "nowhere.h"\n')
    rc, out = layers(root)
    check(rc == 1 and 'data/d.c:2: "nowhere.h" resolves to no file' in out,
          "layers: an unresolved include fails, naming data/d.c:2", out)
    remove(root, "data/d.c")

    write(root, "core/e.c", '#include "msg.pb-c.h"\n')
    rc, out = layers(root)
    check(rc == 1 and "core/e.c:1: core/ may not use proto/" in out,
          "layers: a protobuf header is a use of proto/", out)
    remove(root, "core/e.c")
    write(root, "data/f.c", '#include "other.pb-c.h"\n')
    rc, out = layers(root)
    check(rc == 1 and "data/f.c:1:" in out and "other.proto" in out,
          "layers: a protobuf header with no .proto fails", out)
    remove(root, "data/f.c")

    write(root, "docs/architecture.md", ARCH.replace("| `core/` | — | bottom |",
                                                     "| `core/` | `data/` | bottom |"))
    rc, out = layers(root)
    check(rc == 1 and "docs/architecture.md:7: core/ uses itself" in out,
          "layers: a cycle in the table fails, naming its row", out)
    write(root, "docs/architecture.md", ARCH)

    write(root, "README.md", "Dependencies point down only: core, proto ← cli ← data.\n")
    rc, out = layers(root)
    check(rc == 1 and "README.md:1: the table lets cli/ use data/" in out,
          "layers: a README line against the table fails", out)
    write(root, "README.md", README)

    rc, out = layers(root)
    check(rc == 0, "layers: the tree passes again once fixed", out)


# ---- sizes -----------------------------------------------------------------

def function(name, lines, marker=None):
    """A C function of exactly `lines` lines, from its signature to its brace."""
    body = [f"int {name}(int x)", "{"]
    body += ["    x += 1;"] * (lines - 4)
    body += ["    return x;", "}"]
    head = [marker] if marker else []
    return "\n".join(head + body) + "\n"


def sizes(root):
    return run([PY, os.path.join(SRC, "scripts/check-sizes.py"), "--root", root])


def test_sizes(tmp):
    root = os.path.join(tmp, "sizes")
    # A 150-line function after a comment, a string with a brace and an initializer.
    write(root, "core/ok.c", '/* a { in a comment */\nstatic const int t[] = {1, 2};\n'
          'static const char *s = "}{";\n\n' + function("fine", 150))
    write(root, "sim/ok.h", "\n" * 1199 + "int x;\n")  # 1,200 lines
    rc, out = sizes(root)
    check(rc == 0 and "check-sizes: ok (2 files)" in out, "sizes: clean tree passes", out)

    write(root, "data/long.c", "#include <stdio.h>\n\n" + function("too_long", 151))
    rc, out = sizes(root)
    check(rc == 1 and "data/long.c:3: function too_long is 151 lines (limit 150)" in out,
          "sizes: a 151-line function fails, naming data/long.c:3", out)

    write(root, "data/long.c", "#include <stdio.h>\n" +
          function("codec", 300, "/* tt:long-function: one pass over the planes */"))
    rc, out = sizes(root)
    check(rc == 0, "sizes: a marked long function passes", out)

    write(root, "data/long.c", function("codec", 300, "/* tt:long-function: */"))
    rc, out = sizes(root)
    check(rc == 1 and "data/long.c:1: tt:long-function marker without a reason" in out,
          "sizes: a marker without a reason fails", out)
    remove(root, "data/long.c")

    write(root, "live/big.c", "int x;\n" * 1201)
    rc, out = sizes(root)
    check(rc == 1 and "live/big.c:1201: file is 1201 lines (limit 1200)" in out,
          "sizes: a 1,201-line file fails, naming live/big.c:1201", out)
    remove(root, "live/big.c")

    rc, out = sizes(root)
    check(rc == 0, "sizes: the tree passes again once fixed", out)


# ---- format ----------------------------------------------------------------

GOOD = "int add(int a, int b)\n{\n    int c = a + b;\n    return c;\n}\n"
BAD = "int  add(int a,int b) {\n  return a+b;\n}\n"


def git(root, *args):
    rc, out = run(["git", "-c", "user.name=test", "-c", "user.email=test@example.invalid",
                   "-c", "commit.gpgsign=false", *args], cwd=root)
    assert rc == 0, out
    return out.strip()


def fmt(root, *base):
    return run(["bash", os.path.join(SRC, "scripts/check-format.sh"), "--root", root, *base])


def test_format(tmp):
    root = os.path.join(tmp, "format")
    os.makedirs(root)
    git(root, "init", "-q")
    shutil.copy(os.path.join(SRC, ".clang-format"), root)
    write(root, "core/old.c", BAD)  # predates the base: not checked
    write(root, "core/good.c", GOOD)
    write(root, "README.md", "fixture\n")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "before formatting is enforced")
    base = git(root, "rev-parse", "HEAD")
    write(root, ".ci/format-base", f"# where formatting starts\n{base}\n")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "format base")

    rc, out = fmt(root)
    check(rc == 0 and "check-format: ok (0 C file(s)" in out,
          "format: untouched unformatted file passes", out)

    write(root, "core/good.c", GOOD + "\nint sub(int a, int b) { return a - b; }\n")
    git(root, "commit", "-q", "-am", "a formatted change")
    rc, out = fmt(root)
    check(rc == 0 and "check-format: ok (1 C file(s)" in out,
          "format: a formatted touched file passes", out)

    write(root, "core/good.c", GOOD + "\nint  sub(int a,int b){return a-b;}\n")
    rc, out = fmt(root)
    check(rc == 1 and "core/good.c:7:4: error" in out and "core/good.c:1:" not in out,
          "format: an uncommitted bad change fails, naming core/good.c:7", out)
    git(root, "checkout", "-q", "core/good.c")

    write(root, "data/new.h", "#define X 1\nint  y;\n")
    rc, out = fmt(root)
    check(rc == 1 and "data/new.h:2:" in out,
          "format: a new untracked bad file fails, naming data/new.h:2", out)
    remove(root, "data/new.h")

    write(root, "core/old.c", BAD + "int z;\n")
    git(root, "commit", "-q", "-am", "touch the old file")
    rc, out = fmt(root)
    check(rc == 1 and "core/old.c:1:" in out,
          "format: a committed touch of an unformatted file fails, naming core/old.c:1", out)
    head = git(root, "rev-parse", "HEAD")
    rc, out = fmt(root, head)
    check(rc == 0, "format: with BASE = HEAD nothing is touched and it passes", out)

    git(root, "rm", "-q", "core/old.c")
    git(root, "commit", "-q", "-m", "delete it")
    rc, out = fmt(root)
    check(rc == 0, "format: a deleted file is not checked", out)

    rc, out = fmt(root, "0123456789abcdef0123456789abcdef01234567")
    check(rc == 2 and "not a commit" in out, "format: an unknown base is an error", out)


def main():
    tmp = tempfile.mkdtemp(prefix="tt-checkers-")
    try:
        test_layers(tmp)
        test_sizes(tmp)
        test_format(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
