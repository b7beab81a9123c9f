"""The step-through page in real headless Chromium: loads without console messages, and
DOM dumps / screenshots at several steps show the right node and the right numbers.

Needs Debian's ``chromium`` (``apt-get install -y chromium``). Skipped only when it is
absent and ``CI`` is unset: in CI this test must run.
"""
import base64
import json
import os
import re
import select
import shutil
import signal
import subprocess
import tempfile
import time

import numpy as np
import pytest

import chainrule

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"),
    reason="chromium is not installed (apt-get install -y chromium); required when CI is set",
)
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


class Browser:
    """One headless Chromium driven over the DevTools protocol on a pipe (fds 3 and 4):
    no extra packages, no network port. Collects console messages and JS exceptions."""

    def __init__(self):
        # Chromium's helper processes may still be writing the profile while it is removed
        self.profile = tempfile.TemporaryDirectory(ignore_cleanup_errors=True)
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()

        def fds():  # in the child: the protocol pipe is fds 3 (in) and 4 (out)
            os.dup2(to_chrome_r, 3)
            os.dup2(from_chrome_w, 4)

        self.proc = subprocess.Popen(
            [CHROMIUM or "chromium", *FLAGS, f"--user-data-dir={self.profile.name}",
             "--remote-debugging-pipe", "--window-size=1500,420", "about:blank"],
            preexec_fn=fds, close_fds=False, start_new_session=True,  # noqa: PLW1509  (no threads here) stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.buf = b""
        self.next_id = 0
        self.events = []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.call("Runtime.enable", session=True)
        self.call("Page.enable", session=True)

    def _read(self, deadline):
        while b"\0" not in self.buf:
            left = deadline - time.monotonic()
            assert left > 0, "chromium did not answer"
            if select.select([self.from_chrome], [], [], left)[0]:
                chunk = os.read(self.from_chrome, 1 << 16)
                assert chunk, "chromium exited"
                self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, session=False, **params):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params}
        if session:
            msg["sessionId"] = self.session
        os.write(self.to_chrome, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + 60
        while True:
            m = self._read(deadline)
            if m.get("id") == self.next_id:
                assert "error" not in m, m["error"]
                return m["result"]
            self.events.append(m)

    def wait_event(self, method):
        deadline = time.monotonic() + 60
        while True:
            for i, m in enumerate(self.events):
                if m.get("method") == method:
                    return self.events.pop(i)
            self.events.append(self._read(deadline))

    def open(self, url):
        """Load url afresh (a new document even when only the hash differs)."""
        self.call("Page.navigate", session=True, url="about:blank")
        self.wait_event("Page.loadEventFired")
        self.call("Page.navigate", session=True, url=url)
        self.wait_event("Page.loadEventFired")

    def js(self, expr):
        r = self.call("Runtime.evaluate", session=True, expression=expr, returnByValue=True)
        assert "exceptionDetails" not in r, r
        return r["result"].get("value")

    def key(self, key, code):
        for kind in ("keyDown", "keyUp"):
            self.call("Input.dispatchKeyEvent", session=True, type=kind, key=key, code=key,
                      windowsVirtualKeyCode=code)

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", session=True, format="png")["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def console(self):
        """Console calls and uncaught exceptions seen so far."""
        return [m for m in self.events
                if m.get("method") in ("Runtime.consoleAPICalled", "Runtime.exceptionThrown")]

    def close(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # the browser and all its helpers
        except ProcessLookupError:
            pass
        self.proc.wait()
        os.close(self.to_chrome)
        os.close(self.from_chrome)
        self.profile.cleanup()


@pytest.fixture(scope="module")
def browser():
    b = Browser()
    yield b
    b.close()


def dump(browser, url):
    browser.open(url)
    return browser.js("document.documentElement.outerHTML")


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    x = chainrule.tensor(1.0)
    y = chainrule.tensor(2.0)
    w = chainrule.tensor(1.0, requires_grad=True)
    with chainrule.explain.record():
        y_hat = w * x
        s = y_hat - y
        loss = s**2
    ex = chainrule.explain(loss, names={x: "x", y: "y", w: "w", y_hat: "ŷ", s: "s", loss: "loss"})
    path = tmp_path_factory.mktemp("html") / "seed.html"
    ex.html(str(path))
    return ex, path.as_uri()


def panel(dom):
    m = re.search(r'<div class="cr-panel" data-step="(\d+)" data-vertex="(\d+)" '
                  r'data-phase="(\w+)">(.*?)</ul></div>', dom)
    assert m, "panel not rendered"
    items = [re.sub("<[^>]+>", "", li) for li in re.findall(r"<li>(.*?)</li>", m.group(4))]
    title = re.search(r"<h2>(.*?)</h2>", m.group(4)).group(1)
    return int(m.group(1)), int(m.group(2)), m.group(3), title, items


def highlighted(dom):
    """data-members of the highlighted box."""
    (m,) = re.findall(r'<g class="[^"]*cr-hl[^"]*"[^>]*data-members="([^"]*)"', dom)
    return [int(i) for i in m.split()]


def test_forward_then_backward_steps(browser, page):
    ex, url = page
    idx = {v.label: v.idx for v in ex.vertices}
    dom = dump(browser, url + "#step=0")
    step, vertex, phase, title, items = panel(dom)
    assert (step, vertex, phase) == (0, idx["ŷ"], "forward") and title == "ŷ = mul(…)"
    assert items[:3] == ["w = 1", "x = 1", "ŷ = mul(w, x) = 1"]
    assert "local: ∂ŷ/∂w = x = 1" in items
    assert highlighted(dom) == [idx["ŷ"]]
    # gradients stay hidden until the backward pass reaches them
    assert re.search(r'class="cr-box cr-leaf cr-hidegrad"[^>]*data-members="0"', dom)

    _, vertex, _, _, items = panel(dump(browser, url + "#step=2"))
    assert vertex == idx["loss"] and "loss = pow(s) = 1" in items
    assert "local: ∂loss/∂s = 2 · s = -2" in items

    _, vertex, _, title, items = panel(dump(browser, url + "#step=3"))
    assert vertex == idx["loss"] and title == "start at loss"

    dom = dump(browser, url + "#step=4")
    _, vertex, phase, title, items = panel(dom)
    assert (vertex, phase, title) == (idx["loss"], "backward", "backward through loss = pow(…)")
    assert items == ["upstream ∂loss/∂loss = 1", "∂loss/∂s = ∂loss/∂loss × ∂loss/∂s = 1 × -2 = -2"]
    assert 'class="cr-edge cr-hl-edge" id="cr0-e' in dom or "cr-hl-edge" in dom

    _, vertex, _, _, items = panel(dump(browser, url + "#step=6"))
    assert vertex == idx["ŷ"]
    assert items[-1] == "∂loss/∂w = ∂loss/∂ŷ × ∂ŷ/∂w = -2 × 1 = -2"

    dom = dump(browser, url + "#step=99")  # clamped to the last step
    step, vertex, _, title, items = panel(dom)
    assert step == 7 and vertex == idx["w"] and title == "w.grad" and items == ["w.grad = -2"]
    assert not re.search(r'cr-hidegrad"[^>]*data-members="0"', dom)
    assert browser.console() == []


def test_keys_and_buttons_move_one_step(browser, page):
    _, url = page
    browser.open(url + "#step=1")
    browser.key("ArrowRight", 39)
    browser.key("ArrowRight", 39)
    browser.key("ArrowLeft", 37)
    assert browser.js("document.querySelector('.cr-panel').dataset.step") == "2"
    assert browser.js("location.hash") == "#step=2"
    browser.js("document.querySelector('.cr-next').click()")
    assert browser.js("document.querySelector('.cr-panel').dataset.step") == "3"
    # the replayed-keys parameter drives the same handlers
    assert panel(dump(browser, url + "#step=3&keys=NNNP"))[0] == 5
    assert panel(dump(browser, url + "#step=0&keys=LL"))[0] == 0
    assert browser.console() == []


def test_screenshots_follow_the_highlight(browser, page, tmp_path):
    import matplotlib.image as mpimg

    _, url = page
    centres = []
    for step in (2, 7):  # loss (right of the graph), then w (left)
        png = tmp_path / f"s{step}.png"
        browser.open(url + f"#step={step}")
        browser.screenshot(png)
        img = mpimg.imread(str(png))[..., :3]
        # the highlight colour #f29900
        mask = (np.abs(img[..., 0] - 0.949) < 0.04) & (np.abs(img[..., 1] - 0.6) < 0.06) & (img[..., 2] < 0.08)
        assert mask.sum() > 100, f"no highlighted box at step {step}"
        centres.append(np.nonzero(mask)[1].mean())
    assert centres[0] > centres[1] + 300  # the highlight moved from loss to w


def test_big_model_page_loads(browser, tmp_path):
    w = chainrule.tensor([0.5], requires_grad=True)
    h = chainrule.tensor([1.0], requires_grad=True)
    for _ in range(400):
        h = (h * w).tanh()
    path = tmp_path / "big.html"
    chainrule.explain(h.sum()).html(str(path))
    dom = dump(browser, path.as_uri() + "#step=900")
    assert "(mul → tanh) ×400" in dom
    step, *_ = panel(dom)
    assert step == 900
    browser.js("document.querySelector('.cr-run').dispatchEvent(new MouseEvent('click'))")
    assert browser.js("document.querySelectorAll('.cr-members li').length") == 800 + 2  # + w, h
    assert browser.console() == []
