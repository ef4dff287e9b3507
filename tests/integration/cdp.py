#!/usr/bin/env python3
"""A headless Chromium, driven through the DevTools protocol over its pipe.

    cdp.py URL OUTDIR [--size WxH]

Starts Debian's chromium headless (as root: --no-sandbox) with a new, empty profile
under OUTDIR, opens URL in one tab and leaves it open, then reads commands on stdin,
one a line, and answers each with one line of JSON on stdout:

    eval EXPR           the value of the JavaScript EXPR in the page (awaited when a
                        promise): {"value": ...} or {"error": "..."}
    record EXPR FILE    from now on, every 200 ms, EXPR's value (JSON) is appended to
                        FILE as "MILLISECONDS VALUE" each time it changes: what a page
                        left open showed, and when. {"ok": true}
    shot FILE           a PNG screenshot of the window (WxH) into FILE: {"ok": true}
    quit                ends the browser: {"ok": true}

The protocol's messages go over fds 3 (to the browser) and 4 (from it), NUL-terminated
(--remote-debugging-pipe): no port to find, nothing listening. Standard library only.
"""
import base64
import json
import os
import subprocess
import sys
import threading
import time

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-extensions", "--disable-dev-shm-usage", "--remote-debugging-pipe",
]


class Browser:
    def __init__(self, outdir, size):
        os.makedirs(outdir, exist_ok=True)
        profile = os.path.join(outdir, "chromium-profile")
        os.makedirs(profile, exist_ok=True)
        to_r, self.to_w = os.pipe()
        self.from_r, from_w = os.pipe()

        def fds():  # the browser reads fd 3 and writes fd 4 (copies first: either may be 3 or 4)
            r, w = os.dup(to_r), os.dup(from_w)
            os.dup2(r, 3)
            os.dup2(w, 4)

        self.log = open(os.path.join(outdir, "chromium.log"), "wb")
        self.proc = subprocess.Popen(
            ["chromium", *CHROMIUM_FLAGS, "--user-data-dir=" + profile,
             "--window-size=" + size.replace("x", ","), "about:blank"],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
            preexec_fn=fds, pass_fds=(3, 4, to_r, from_w))
        os.close(to_r)
        os.close(from_w)
        self.next_id = 0
        self.pending = {}  # id -> [event, reply]
        self.lock = threading.Lock()
        self.session = None
        threading.Thread(target=self._reader, daemon=True).start()

    def _reader(self):
        buf = b""
        while True:
            chunk = os.read(self.from_r, 1 << 16)
            if not chunk:
                break
            buf += chunk
            while b"\0" in buf:
                msg, buf = buf.split(b"\0", 1)
                m = json.loads(msg)
                waiter = self.pending.get(m.get("id"))
                if waiter:
                    waiter[1] = m
                    waiter[0].set()
        for waiter in list(self.pending.values()):  # the browser is gone
            waiter[1] = {"error": {"message": "the browser exited"}}
            waiter[0].set()

    def call(self, method, params=None, session=True, timeout=60):
        with self.lock:
            self.next_id += 1
            mid = self.next_id
            waiter = [threading.Event(), None]
            self.pending[mid] = waiter
            msg = {"id": mid, "method": method, "params": params or {}}
            if session and self.session:
                msg["sessionId"] = self.session
            os.write(self.to_w, json.dumps(msg).encode() + b"\0")
        if not waiter[0].wait(timeout):
            raise RuntimeError(method + ": no answer in %d s" % timeout)
        del self.pending[mid]
        reply = waiter[1]
        if "error" in reply:
            raise RuntimeError(method + ": " + reply["error"].get("message", "?"))
        return reply["result"]

    def open(self, url, size):
        target = self.call("Target.createTarget", {"url": "about:blank"}, session=False)
        self.session = self.call("Target.attachToTarget",
                                 {"targetId": target["targetId"], "flatten": True},
                                 session=False)["sessionId"]
        w, h = (int(v) for v in size.split("x"))
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": w, "height": h, "deviceScaleFactor": 1, "mobile": False})
        self.call("Page.enable")
        self.call("Page.navigate", {"url": url})

    def eval(self, expr):
        r = self.call("Runtime.evaluate",
                      {"expression": expr, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            raise RuntimeError(d.get("exception", {}).get("description", d.get("text", "?")))
        return r["result"].get("value")

    def shot(self, path):
        r = self.call("Page.captureScreenshot", {"format": "png"})
        with open(path, "wb") as f:
            f.write(base64.b64decode(r["data"]))

    def quit(self):
        try:
            self.call("Browser.close", session=False, timeout=10)
        except RuntimeError:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def recorder(browser, expr, path, stop):
    last = None
    t0 = time.time()
    with open(path, "a") as f:
        while not stop.is_set():
            try:
                value = json.dumps(browser.eval(expr), sort_keys=True)
            except RuntimeError as e:
                value = json.dumps({"error": str(e)})
            if value != last:
                f.write("%d %s\n" % (int((time.time() - t0) * 1000), value))
                f.flush()
                last = value
            stop.wait(0.2)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    url, outdir = sys.argv[1], sys.argv[2]
    size = sys.argv[4] if len(sys.argv) > 4 and sys.argv[3] == "--size" else "1400x900"
    browser = Browser(outdir, size)
    stop = threading.Event()
    out = sys.stdout

    def answer(obj):
        out.write(json.dumps(obj) + "\n")
        out.flush()

    try:
        browser.open(url, size)
    except RuntimeError as e:
        answer({"error": "cannot open %s: %s" % (url, e)})
        browser.quit()
        sys.exit(1)
    answer({"ok": True, "opened": url})
    for line in sys.stdin:
        cmd, _, arg = line.rstrip("\n").partition(" ")
        try:
            if cmd == "eval":
                answer({"value": browser.eval(arg)})
            elif cmd == "record":
                expr, _, path = arg.rpartition(" ")
                threading.Thread(target=recorder, args=(browser, expr, path, stop),
                                 daemon=True).start()
                answer({"ok": True})
            elif cmd == "shot":
                browser.shot(arg)
                answer({"ok": True})
            elif cmd == "quit":
                break
            else:
                answer({"error": "unknown command " + cmd})
        except RuntimeError as e:
            answer({"error": str(e)})
    stop.set()
    browser.quit()
    answer({"ok": True})


if __name__ == "__main__":
    main()
