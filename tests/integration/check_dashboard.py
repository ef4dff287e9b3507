#!/usr/bin/env python3
"""Checks a Grafana dashboard's queries against a live /metrics (Prometheus text).

    check_dashboard.py DASHBOARD.json METRICS.txt

Every xpxe_* metric a query names must be in METRICS; every label matcher with a
plain value (label="value") must match a sample of that metric, every regex matcher
(label=~"a|b.*") must match some sample and each of its plain alternatives one too;
every label of a "by (...)" and of label_values() must be a label of the metric.
Matchers on $variables are the dashboard's own. Prints what it checked; each
problem on a line of its own; exits 1 when there is one. Standard library only.
"""
import json
import re
import sys

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+\S+')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
SELECTOR = re.compile(r'\b(xpxe_[a-zA-Z0-9_]+)\b(\s*\{([^}]*)\})?')
MATCHER = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')
BY = re.compile(r'\b(?:by|without)\s*\(([^)]*)\)')
LABEL_VALUES = re.compile(r'label_values\(\s*(xpxe_[a-zA-Z0-9_]+)[^,]*,\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)')


def read_metrics(path):
    samples = {}  # name -> list of label dicts
    for line in open(path):
        if line.startswith("#") or not line.strip():
            continue
        m = SAMPLE.match(line)
        if not m:
            continue
        labels = dict(LABEL.findall(m.group(3) or ""))
        samples.setdefault(m.group(1), []).append(labels)
    return samples


def queries(node):
    """Every query string of the dashboard: targets' expr, variables' definitions."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("expr", "definition") and isinstance(value, str):
                yield value
            elif key == "query" and isinstance(value, str) and "xpxe_" in value:
                yield value
            else:
                yield from queries(value)
    elif isinstance(node, list):
        for item in node:
            yield from queries(item)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    dashboard = json.load(open(sys.argv[1]))
    samples = read_metrics(sys.argv[2])
    problems, names, matchers, exprs = [], set(), 0, 0
    for expr in queries(dashboard):
        exprs += 1
        used = []
        for sel in SELECTOR.finditer(expr):
            name = sel.group(1)
            names.add(name)
            used.append(name)
            if name not in samples:
                problems.append("%s: no such metric in /metrics (query: %s)" % (name, expr))
                continue
            for label, op, value in MATCHER.findall(sel.group(3) or ""):
                if "$" in value or op in ("!=", "!~"):
                    continue
                matchers += 1
                have = [s[label] for s in samples[name] if label in s]
                if not have:
                    problems.append("%s has no label %s (query: %s)" % (name, label, expr))
                elif op == "=" and value not in have:
                    problems.append('%s{%s="%s"}: no such sample (it has %s)'
                                    % (name, label, value, sorted(set(have))))
                elif op == "=~":
                    if not any(re.fullmatch(value, h) for h in have):
                        problems.append('%s{%s=~"%s"}: matches no sample' % (name, label, value))
                    for alt in value.split("|"):
                        if re.fullmatch(r"[a-zA-Z0-9_ ]+", alt) and alt not in have:
                            problems.append('%s{%s=~"...%s..."}: no sample has %s'
                                            % (name, label, alt, alt))
        for by in BY.finditer(expr):
            for label in (l.strip() for l in by.group(1).split(",") if l.strip()):
                if not any(label in s for n in used if n in samples for s in samples[n]):
                    problems.append("by (%s): no metric of the query has it (query: %s)"
                                    % (label, expr))
        for lv in LABEL_VALUES.finditer(expr):
            name, label = lv.group(1), lv.group(2)
            if label != "instance" and not any(label in s for s in samples.get(name, [])):
                problems.append("label_values(%s, %s): no such label" % (name, label))
    for p in problems:
        print("not in /metrics: " + p)
    print("checked %d queries: %d metrics (%s), %d label matchers"
          % (exprs, len(names), " ".join(sorted(names)), matchers))
    sys.exit(1 if problems or not exprs else 0)


if __name__ == "__main__":
    main()
