#!/usr/bin/env python3
"""Fails when code, tests, benches or build steps refer to a path outside the repository.

A user's clone has nothing beside it, so every fixture a test or bench reads must live inside the
repository. This resolves each relative path written in the sources — `include_str!`/`include_bytes!`
arguments against their file, `CARGO_MANIFEST_DIR`-based paths against their crate, and `../` paths in
the Makefile, CI scripts and Trunk.toml against the repository root — and lists any that escape it.
"""
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
LITERAL = re.compile(r'"((?:[^"\\]|\\.)*)"')
SHELL_PATH = re.compile(r"(?<![\w.])(\.\./[^\s\"'`;)]*)")


def crate_dir(path: pathlib.Path) -> pathlib.Path:
    for parent in path.parents:
        if (parent / "Cargo.toml").exists():
            return parent
    return ROOT


def escapes(base: pathlib.Path, rel: str) -> bool:
    target = (base / rel.lstrip("/")).resolve() if rel.startswith("/") else (base / rel).resolve()
    return ROOT != target and ROOT not in target.parents


def rust_problems(path: pathlib.Path, text: str):
    lines = text.splitlines()
    for i, line in enumerate(lines):
        for m in LITERAL.finditer(line):
            value = m.group(1)
            if "../" not in value and "/.." not in value:
                continue
            context = " ".join(lines[max(0, i - 2) : i + 1])
            if "CARGO_MANIFEST_DIR" in context:
                base = crate_dir(path)
            elif re.search(r"include_(str|bytes)!\s*\($", line[: m.start()].rstrip() + "(") or "include_" in context:
                base = path.parent
            else:
                continue  # data in a test (a path-traversal probe, say), not a file read
            if escapes(base, value):
                yield i + 1, value


def shell_problems(text: str):
    for i, line in enumerate(text.splitlines()):
        if line.lstrip().startswith("#"):
            continue
        for m in SHELL_PATH.finditer(line):
            if escapes(ROOT, m.group(1)):
                yield i + 1, m.group(1)


def main() -> int:
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout.split()
    problems = []
    for name in files:
        path = ROOT / name
        if not path.is_file():
            continue
        if name.endswith(".rs"):
            found = rust_problems(path, path.read_text(errors="replace"))
        elif name in ("Makefile", "Trunk.toml") or (name.startswith(".ci/") and not name.endswith(".py")):
            found = shell_problems(path.read_text(errors="replace"))
        else:
            continue
        problems += [f"{name}:{line}: {value}" for line, value in found]
    if problems:
        print("paths outside the repository (a clone has nothing beside it; copy what you need in):")
        print("\n".join(f"  {p}" for p in problems))
        return 1
    print(f"self-contained: {len(files)} files, no path leads outside the repository")
    return 0


if __name__ == "__main__":
    sys.exit(main())
