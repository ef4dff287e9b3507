#!/usr/bin/env python3
"""The userspace include graph (of DIR, default userspace/), by job: a file in a folder of userspace/ counts as its folder, a
top-level file (x.c with x.h) as itself. Prints every circle (a strongly connected set of more
than one node) and every include of a folder-internal header from outside its folder; exits 1
if there is either, so `make check` keeps the graph as the README describes it.

A folder's interface is the header named after it (dhcp/dhcp.h, tftp/tftp.h, ...); headers a
folder lists in INTERNAL are for its own files and its own tests only."""
import os
import re
import sys

ROOT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "userspace")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
# Folder-internal headers: only the folder's own files may include them.
INTERNAL = {"dhcp/leases.h", "dhcp/leases6.h", "tftp/internal.h", "tftp/proto.h", "store/internal.h"}


def node_of(rel):
    parts = rel.split("/")
    if len(parts) > 1:
        return parts[0] + "/"
    return os.path.splitext(parts[0])[0]


def resolve(including, name):
    here = os.path.join(os.path.dirname(including), name)
    if os.path.exists(os.path.join(ROOT, here)):
        return os.path.normpath(here)
    if os.path.exists(os.path.join(ROOT, name)):
        return os.path.normpath(name)
    return None  # include/, build/ (skeletons) or a system header: not a userspace node


def main():
    edges, problems = {}, []
    for d, _, files in os.walk(ROOT):
        for f in files:
            if not f.endswith((".c", ".h")):
                continue
            rel = os.path.relpath(os.path.join(d, f), ROOT)
            with open(os.path.join(ROOT, rel), encoding="utf-8") as fh:
                text = fh.read()
            src = node_of(rel)
            edges.setdefault(src, set())
            for name in INCLUDE.findall(text):
                target = resolve(rel, name)
                if target is None:
                    continue
                dst = node_of(target)
                if target in INTERNAL and dst != src:
                    problems.append(f"{rel} includes {target}, internal to {dst}")
                if dst != src:
                    edges[src].add(dst)
    # Tarjan's strongly connected components.
    index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                sccs.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    for comp in sccs:
        problems.append("circle: " + " <-> ".join(comp))
    for p in problems:
        print(p)
    print(f"{len(edges)} nodes, {sum(len(e) for e in edges.values())} edges, "
          f"{len(sccs)} circles, {len(problems) - len(sccs)} internal includes from outside")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
