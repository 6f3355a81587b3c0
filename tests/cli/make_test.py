"""A newcomer finds the binary (run by ctest: tests/cli/make.cmake).

usage: make_test.py SOURCE_DIR BUILD_DIR WORK_DIR

  - scripts/where.sh, which `make build` and `make demo` run, prints the
    absolute path of the built ticktape and the line that puts it on the
    PATH; with that line applied it says 'ticktape' runs by name, and
    `ticktape --version` does;
  - `make -n` (a dry run: nothing is built or installed) shows build and demo
    calling it, and install going into $HOME/.local by default and into
    PREFIX when given, then saying where it went.
"""
import os
import re
import shutil
import subprocess
import sys

SRC, BUILD, WORK = sys.argv[1:4]


def fail(msg):
    sys.exit("FAIL: " + msg)


build = os.path.abspath(BUILD)
where = os.path.join(SRC, "scripts", "where.sh")
env = dict(os.environ, PATH="/usr/bin:/bin")
p = subprocess.run(["bash", where, "built", build], capture_output=True, text=True, env=env)
if p.returncode != 0 or f"ticktape: {build}/ticktape (built)" not in p.stdout:
    fail("where.sh built: " + p.stdout + p.stderr)
m = re.search(r'export PATH="([^"]+):\$PATH"', p.stdout)
if not m or m.group(1) != build:
    fail("no PATH line naming " + build + ":\n" + p.stdout)
if "make install" not in p.stdout:
    fail("no word of make install:\n" + p.stdout)
env["PATH"] = m.group(1) + ":" + env["PATH"]
p = subprocess.run(["bash", where, "built", build], capture_output=True, text=True, env=env)
if "on your PATH: run it as 'ticktape'" not in p.stdout:
    fail("with the PATH line applied: " + p.stdout)
v = subprocess.run(["ticktape", "--version"], capture_output=True, text=True, env=env)
if v.returncode != 0 or not v.stdout.startswith("ticktape "):
    fail("ticktape by name: " + v.stdout + v.stderr)
p = subprocess.run(["bash", where, "built", os.path.join(WORK, "nowhere")], capture_output=True,
                   text=True)
if p.returncode == 0:
    fail("where.sh on a folder without ticktape succeeded")

if not shutil.which("make"):
    print("ok (make not installed: dry runs skipped)")
    sys.exit(0)


def dry(*args):
    r = subprocess.run(["make", "-n", "-C", SRC, f"BUILD={build}", *args], capture_output=True,
                       text=True, env=dict(os.environ, HOME="/home/newcomer"))
    if r.returncode != 0:
        fail("make -n " + " ".join(args) + ": " + r.stderr)
    return r.stdout


for target in ("build", "demo"):
    if f"scripts/where.sh built {build}" not in dry(target):
        fail(f"make {target} does not say where the binary is")
out = dry("install")
if f"cmake --install {build} --prefix /home/newcomer/.local" not in out or \
        "where.sh installed /home/newcomer/.local" not in out:
    fail("make install: not into $HOME/.local:\n" + out)
if f"--prefix {WORK}/p" not in dry("install", f"PREFIX={WORK}/p"):
    fail("make install PREFIX= ignored")
print("ok: the binary's path and the PATH line are printed; install goes into a user prefix")
