#!/usr/bin/env python3
"""Drives the built demo in headless Chromium through chromedriver (W3C WebDriver, standard
library only) and checks the DOM contract end to end.

    scripts/serve-demo.sh &                      # serves dist/ on 127.0.0.1:8080
    python3 web/smoke.py [--url http://127.0.0.1:8080/] [--shots DIR] [--bench] [--offline-cmd CMD]

Checks: the model loads and a result appears for a link with ?text=…; mentions carry
data-entity-type/data-start/data-end matching the text; arcs carry data-relation/data-head/
data-tail; #triples lists the relations; HTML in the text stays text; the threshold and
the model picker re-run; an empty text gives a hint; an over-long text is refused.
--bench also runs ?bench=1 and prints #bench-result. --offline-cmd runs CMD (which should
stop the server) and then checks that a reload still works from the service worker's cache.
"""

import argparse
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request


class Driver:
    def __init__(self, port, width=1200, height=1600):
        self.base = f"http://127.0.0.1:{port}"
        self.profile = tempfile.mkdtemp(prefix="mge-smoke-")
        args = [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--window-size={width},{height}", f"--user-data-dir={self.profile}",
        ]
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": shutil.which("chromium") or "chromium", "args": args},
        }}}
        self.sid = self.call("POST", "/session", caps)["sessionId"]

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=300) as r:
            out = json.loads(r.read() or b"{}")
        return out.get("value")

    def s(self, method, path, body=None):
        return self.call(method, f"/session/{self.sid}{path}", body)

    def go(self, url):
        self.s("POST", "/url", {"url": url})

    def js(self, script, *args):
        return self.s("POST", "/execute/sync", {"script": script, "args": list(args)})

    def wait(self, script, timeout=120, what="condition"):
        t0 = time.time()
        while time.time() - t0 < timeout:
            v = self.js(script)
            if v:
                return v
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}; status: {self.status()}")

    def status(self):
        return self.js("const s=document.getElementById('status');"
                       "return s && [s.dataset.state, s.textContent];")

    def shot(self, path):
        png = base64.b64decode(self.s("GET", "/screenshot"))
        with open(path, "wb") as f:
            f.write(png)
        print("screenshot", path)

    def quit(self):
        try:
            self.s("DELETE", "")
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ready(extra="true"):
    """A script that is true once the page is ready with a result and `extra` holds."""
    return ("const s=document.getElementById('status');"
            f"return !!(s && s.dataset.state==='ready' && document.querySelector('#triples') && ({extra}));")


WAIT_READY = ready()

DOM = """
const text = document.getElementById('text').value;
const chars = Array.from(text);
const mentions = [...document.querySelectorAll('[data-entity-type]')].map(e => ({
  type: e.dataset.entityType, start: +e.dataset.start, end: +e.dataset.end, shown: e.textContent,
  inText: chars.slice(+e.dataset.start, +e.dataset.end).join('')}));
const arcs = [...document.querySelectorAll('[data-relation]')]
  .map(e => ({rel: e.dataset.relation, head: +e.dataset.head, tail: +e.dataset.tail}));
const rows = document.querySelectorAll('#triples tbody tr:not(.empty)').length;
const st = document.getElementById('status');
return {mentions, arcs, rows, state: st.dataset.state, backend: st.dataset.backend,
        timing: (document.querySelector('.timing')||{}).textContent};
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="http://127.0.0.1:8080/")
    ap.add_argument("--shots", default="/tmp/mge-shots")
    ap.add_argument("--bench", action="store_true")
    ap.add_argument("--offline-cmd")
    a = ap.parse_args()
    os.makedirs(a.shots, exist_ok=True)

    port = free_port()
    cd = subprocess.Popen(["chromedriver", f"--port={port}"], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        d = Driver(port)
        try:
            run(d, a)
        finally:
            d.quit()
    finally:
        cd.terminate()
        cd.wait()


def run(d, a):
    sentence = ("Maria Gonzalez, who has worked for the United Nations in Geneva since 2004, met "
                "the mayor of Boston, Thomas Menino, on Tuesday to discuss a new office near the harbor.")
    q = urllib.parse.urlencode({"text": sentence, "model": "conll04", "threshold": "0.5"})
    t0 = time.time()
    d.go(a.url + "?" + q)
    d.wait(WAIT_READY, what="first result")
    print(f"first result after {time.time() - t0:.1f} s")
    r = d.js(DOM)
    print(json.dumps(r, indent=1)[:3000])
    assert r["backend"] == "wasm"
    assert r["mentions"], "no mentions"
    for m in r["mentions"]:
        assert m["shown"] == m["inText"], m
    assert len(r["arcs"]) == r["rows"], (r["arcs"], r["rows"])
    assert r["arcs"], "no relations found in the news sentence"
    d.shot(f"{a.shots}/news.png")

    # HTML in the text is shown as text.
    d.js("const t=document.getElementById('text');"
         "t.value='<img src=x onerror=\"window.pwned=1\"><b>Bill Gates</b> founded Microsoft in Albuquerque.';"
         "t.dispatchEvent(new Event('input', {bubbles:true}));")
    time.sleep(0.5)
    d.wait(ready("document.querySelector('.annotated').textContent.includes('<b>')"),
           what="result of the HTML text")
    assert not d.js("return !!document.querySelector('.annotated img, .annotated b') || !!window.pwned")
    print("HTML stays text:", d.js(DOM)["mentions"])

    # Threshold re-runs: a high threshold gives no more mentions than a low one.
    def at_threshold(t):
        d.js("const s=document.getElementById('threshold'); s.value=arguments[0];"
             "s.dispatchEvent(new Event('input', {bubbles:true}));", str(t))
        time.sleep(0.6)
        d.wait(WAIT_READY, what=f"result at threshold {t}")
        return len(d.js(DOM)["mentions"])
    low, high = at_threshold(0.1), at_threshold(0.95)
    print("mentions at 0.1 / 0.95:", low, high)
    assert high <= low

    # Empty text: a hint, not an error.
    d.js("const t=document.getElementById('text'); t.value='   ';"
         "t.dispatchEvent(new Event('input', {bubbles:true}));")
    time.sleep(0.6)
    d.wait("return document.getElementById('status').dataset.state==='ready' && !!document.querySelector('.hint')",
           what="empty-text hint")
    # Over the limit: refused.
    d.js("const t=document.getElementById('text'); t.value='word '.repeat(4100);"
         "t.dispatchEvent(new Event('input', {bubbles:true}));")
    time.sleep(0.6)
    msg = d.wait("const e=document.querySelector('.refuse'); return e && e.textContent", what="refusal")
    print("refusal:", msg)

    # Long text (under the limit): processed in chunks.
    d.js("const t=document.getElementById('text'); t.value=arguments[0];"
         "t.dispatchEvent(new Event('input', {bubbles:true}));", (sentence + " ") * 30)
    seen = d.wait("return document.querySelector('.run-progress') ? 'progress shown' : "
                  "(document.querySelectorAll('[data-entity-type]').length > 30 && 'finished first')",
                  timeout=300, what="progress of the long text")
    print("long text:", seen)
    d.wait(ready("document.querySelectorAll('[data-entity-type]').length > 30"),
           timeout=300, what="long text")
    print("long text:", d.js("return document.querySelector('.timing').textContent"))

    # Model picker: science.
    d.js("const t=document.getElementById('text'); t.value=arguments[0];"
         "t.dispatchEvent(new Event('input', {bubbles:true}));"
         "const m=document.getElementById('model'); m.value='scierc';"
         "m.dispatchEvent(new Event('change', {bubbles:true}));",
         "We propose a graph-based parsing method for dependency parsing that outperforms "
         "transition-based parsers on the Penn Treebank.")
    time.sleep(0.5)
    d.wait(ready("document.querySelector('.legend').textContent.includes('Method')"),
           timeout=300, what="science model")
    r = d.js(DOM)
    print("science:", r["mentions"], r["arcs"])
    d.shot(f"{a.shots}/science.png")

    # Narrow screen: the arcs wrap with the text.
    d.s("POST", "/window/rect", {"width": 420, "height": 1400})
    d.go(a.url + "?" + q)
    d.wait(WAIT_READY, what="narrow result")
    time.sleep(0.5)
    d.shot(f"{a.shots}/narrow.png")
    d.s("POST", "/window/rect", {"width": 1200, "height": 1600})

    # Teaching view.
    d.js("document.querySelector('details.teaching').open = true;")
    d.wait("return !!document.querySelector('canvas.heatmap') && !!document.querySelector('table.gates')",
           timeout=120, what="teaching view")
    time.sleep(0.5)
    d.js("document.querySelector('details.teaching').scrollIntoView()")
    d.shot(f"{a.shots}/teaching.png")

    if a.bench:
        d.go(a.url + "?bench=1")
        out = d.wait("const e=document.getElementById('bench-result');"
                     "return e && e.dataset.done==='1' && e.textContent", timeout=600, what="benchmark")
        print(out)
        d.shot(f"{a.shots}/bench.png")

    if a.offline_cmd:
        d.go(a.url + "?" + q)
        d.wait(WAIT_READY, what="result before going offline")
        # Let the service worker take control and keep the bundle.
        d.wait("return !!navigator.serviceWorker.controller", what="service worker control")
        time.sleep(3)
        subprocess.run(a.offline_cmd, shell=True, check=True)
        d.go(a.url + "?" + q)
        d.wait(WAIT_READY, timeout=120, what="offline reload")
        print("offline reload works:", len(d.js(DOM)["mentions"]), "mentions")
        d.shot(f"{a.shots}/offline.png")
    print("smoke test passed")


if __name__ == "__main__":
    sys.exit(main())
