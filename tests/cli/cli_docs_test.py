#!/usr/bin/env python3
"""docs/cli.md is `ticktape help --markdown`, byte for byte (run by ctest:
tests/cli/opts.cmake), and it documents what the binary accepts: each
command's --help succeeds and names every option its section in the
reference lists, and every --help (groups included) has its usage, a
description and its exit codes. Also: backtest --help-keys prints the key
table of --keys.

usage: cli_docs_test.py TICKTAPE SOURCE_DIR
"""
import difflib
import os
import re
import subprocess
import sys

tt, src = sys.argv[1], sys.argv[2]
path = os.path.join(src, "docs", "cli.md")


def run(*args):
    p = subprocess.run([tt, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        sys.exit(f"FAIL: ticktape {' '.join(args)}: exit {p.returncode}\n{p.stderr}")
    return p.stdout


generated = run("help", "--markdown")
committed = open(path, encoding="utf-8").read()
if generated != committed:
    diff = difflib.unified_diff(committed.splitlines(True), generated.splitlines(True),
                                "docs/cli.md (committed)", "ticktape help --markdown")
    sys.stdout.writelines(list(diff)[:200])
    sys.exit("FAIL: docs/cli.md differs from the option tables; regenerate it with\n"
             "  build/ticktape help --markdown > docs/cli.md")

# Every command and subcommand of the reference has a --help that names the
# same options as its table in the reference.
sections = re.split(r"^#{2,3} ticktape (.+)$", generated, flags=re.M)
checked = 0
for name, body in zip(sections[1::2], sections[2::2]):
    words = name.split()
    text = run(*words, "--help")
    if not text.startswith("usage: ticktape "):
        sys.exit(f"FAIL: ticktape {name} --help does not start with its usage:\n{text[:300]}")
    for opt in re.findall(r"^\| (?:`-.`, )?`(--[a-z0-9-]+)`", body, flags=re.M):
        if opt not in text:
            sys.exit(f"FAIL: {opt} is in docs/cli.md for '{name}' but not in its --help")
    checked += 1
if checked < 20:
    sys.exit(f"FAIL: only {checked} commands in docs/cli.md")

# Every --help is complete: its usage, a description, and its exit codes; the
# top-level help lists every command, each of which passes the same check
# (command groups too: tape, import, download, bench).
top = run("--help")
commands = re.findall(r"^  ([a-z]+) {2,}", top.split("commands:", 1)[1].split("options:", 1)[0],
                      flags=re.M)
names = sorted(set(commands) | {n for n in sections[1::2]})
for name in names:
    text = run(*name.split(), "--help")
    paras = [p for p in text.split("\n\n") if p.strip()]
    desc = [p for p in paras[1:] if not re.match(r"(arguments|options|subcommands|exit codes|see )",
                                                 p.strip())]
    if not text.startswith("usage: ticktape ") or not desc or "exit codes:" not in text:
        sys.exit(f"FAIL: ticktape {name} --help lacks its usage, a description or its exit "
                 f"codes:\n{text}")
if len(commands) < 14:
    sys.exit(f"FAIL: ticktape --help lists {len(commands)} commands")

# backtest --help-keys is --keys: the scenario key table.
keys = run("backtest", "--keys")
if run("backtest", "--help-keys") != keys or "venue.latency_ms" not in keys:
    sys.exit("FAIL: backtest --help-keys does not print the scenario keys as --keys does")
print(f"ok: docs/cli.md equals ticktape help --markdown ({checked} commands)")
