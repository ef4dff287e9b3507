#!/usr/bin/env python3
"""Page clients of the fleet page without a browser: each polls /api/fleet as the page
does (keep-alive, "since" its last answer's version, again one second after each answer),
so the daemon pays exactly what open pages cost it, and this side little.

    ui_poll.py URL CLIENTS OUT

URL: the page (http://ADDR:PORT/). Runs until SIGTERM, then writes to OUT one line of
key=value: polls, errors, p50_ms/p99_ms/max_ms (one answer, request sent to body read),
rows_per_poll (machines an answer carried), kb_per_poll. Standard library only.
"""
import http.client
import re
import signal
import sys
import threading
import time
import urllib.parse

POLL_S = 1.0
HEAD = re.compile(rb'\{"epoch":(\d+),"version":(\d+),')


def client(host, port, stop, times, totals):
    conn = None
    version, epoch = 0, 0
    while not stop.is_set():
        t0 = time.monotonic()
        try:
            if conn is None:
                conn = http.client.HTTPConnection(host, port, timeout=10)
            conn.request("GET", "/api/fleet?since=%d&epoch=%d" % (version, epoch))
            resp = conn.getresponse()
            body = resp.read()
            if resp.status != 200:
                raise OSError("HTTP %d" % resp.status)
            # Not parsed whole: this side must cost the shared CPUs little. The answer
            # starts with {"epoch":E,"version":V and holds one "mac" key per machine.
            head = HEAD.match(body)
            if not head:
                raise ValueError("not an answer of /api/fleet: %r" % body[:80])
            epoch, version = int(head.group(1)), int(head.group(2))
            times.append((time.monotonic() - t0) * 1000)
            totals["rows"] += body.count(b'{"mac":')
            totals["bytes"] += len(body)
        except (OSError, ValueError, http.client.HTTPException):
            totals["errors"] += 1
            if conn is not None:
                conn.close()
            conn = None
        stop.wait(POLL_S)


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    url = urllib.parse.urlsplit(sys.argv[1])
    n, out = int(sys.argv[2]), sys.argv[3]
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    times, totals = [], {"rows": 0, "bytes": 0, "errors": 0}
    threads = [threading.Thread(target=client, args=(url.hostname, url.port or 80, stop,
                                                     times, totals)) for _ in range(n)]
    for t in threads:
        t.start()
    while not stop.is_set():
        stop.wait(0.5)
    for t in threads:
        t.join()
    times.sort()
    polls = len(times)

    def pct(p):
        return times[min(polls - 1, int(p * polls))] if polls else 0

    with open(out, "w") as f:
        f.write("polls=%d errors=%d p50_ms=%.1f p99_ms=%.1f max_ms=%.1f rows_per_poll=%.1f "
                "kb_per_poll=%.1f\n" % (polls, totals["errors"], pct(0.5), pct(0.99),
                                        times[-1] if polls else 0,
                                        totals["rows"] / polls if polls else 0,
                                        totals["bytes"] / 1024 / polls if polls else 0))


if __name__ == "__main__":
    main()
