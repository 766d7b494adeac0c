"""The browser studio (`stillmotion serve`, page at /) driven in headless Chromium.

Starts a real server with one worker, opens the page at 1280×800, checks that
the settings form is built from GET /v1/options (ranges, defaults, choices,
presets), uploads a photo, reads the analysis, types a prompt, generates a 1 s
480p clip and waits until the clip plays in the gallery; then reuse-settings,
save-as-recipe and the recipe picker, use-as-start image, cancel, compare, and
the access-key field of a server with per-person keys.

Needs the Python `playwright` package (the `ui-test` list of the test extra)
and Debian's Chromium at /usr/bin/chromium (Playwright's own browser download
is not used). Screenshots go to the test's tmp dir; set STILLMOTION_ARTIFACTS=1
to also copy them to tests/artifacts/ (or set it to a folder to copy them there).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the server extra is not installed: pip install 'stillmotion[server]'")
pytest.importorskip("uvicorn", reason="the server extra is not installed: pip install 'stillmotion[server]'")
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed: pip install playwright (the test extra's ui-test list)"
)

CHROMIUM = next(
    (
        p
        for p in (
            os.environ.get("STILLMOTION_CHROMIUM", ""),
            "/usr/bin/chromium",
            shutil.which("chromium") or "",
            shutil.which("chromium-browser") or "",
        )
        if p and Path(p).is_file()
    ),
    None,
)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium: install Debian's package (apt-get install chromium) for the browser tests"
)

CHROME_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--autoplay-policy=no-user-gesture-required",
]
VIEWPORT = {"width": 1280, "height": 800}
RENDER_TIMEOUT_MS = 180_000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Server:
    def __init__(self, data: Path, log: Path, token: str | None = None) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = token
        self.log = log
        cmd = [
            sys.executable,
            "-m",
            "stillmotion.cli",
            "serve",
            "--port",
            str(self.port),
            "--data",
            str(data),
            "--workers",
            "1",
        ]
        env = {k: v for k, v in os.environ.items() if k != "STILLMOTION_TOKEN"}
        env["STILLMOTION_CONFIG_DIR"] = str(data.parent / "config")  # the recipe library: never the real one
        if token:
            env["STILLMOTION_TOKEN"] = token  # never on the command line, where ps shows it
        self._log = open(log, "wb")
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"`stillmotion serve` exited: {log.read_text(errors='replace')[-2000:]}")
            try:
                req = urllib.request.Request(self.url + "/v1/engines")
                if token:
                    req.add_header("Authorization", f"Bearer {token}")
                with urllib.request.urlopen(req, timeout=5) as r:
                    if r.status == 200:
                        break
            except urllib.error.HTTPError as err:
                if err.code == 401:  # up, and asking for a key
                    break
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(
                    f"the server did not answer on {self.url}: {log.read_text(errors='replace')[-2000:]}"
                )
            time.sleep(0.25)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROME_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("studio")
    srv = _Server(root / "data", root / "server.log")
    yield srv
    srv.stop()


class _Shots:
    """Screenshots in the test's tmp dir, copied out when STILLMOTION_ARTIFACTS is set."""

    def __init__(self, page, folder: Path) -> None:
        self.page, self.folder = page, folder
        folder.mkdir(parents=True, exist_ok=True)
        flag = os.environ.get("STILLMOTION_ARTIFACTS", "").strip()
        if flag.lower() in ("", "0", "false", "no"):
            self.copy_to = None
        elif flag.lower() in ("1", "true", "yes"):
            self.copy_to = Path(__file__).parent / "artifacts"
        else:
            self.copy_to = Path(flag)

    def __call__(self, name: str, **kw) -> Path:
        path = self.folder / f"{name}.png"
        (kw.pop("target", None) or self.page).screenshot(path=str(path), **kw)
        if self.copy_to is not None:
            self.copy_to.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, self.copy_to / path.name)
        return path


def _open(browser, url: str):
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    # JavaScript errors fail the test; a resource that failed to load is the server's business (its own tests).
    page.on(
        "console",
        lambda msg: (
            errors.append(f"console {msg.type}: {msg.text}")
            if msg.type == "error" and not msg.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.goto(url)
    return context, page, errors


def _js(x: float | int | None) -> str:
    """A JSON number as JavaScript's String() writes it: 1.0 → "1", 0.05 → "0.05"."""
    return "" if x is None else str(int(x)) if float(x).is_integer() else repr(float(x))


def _job_ids(page) -> list[str]:
    return page.eval_on_selector_all("#jobs .job", "els => els.map(e => e.dataset.jobId)")


def _wait_video_plays(page, job_id: str) -> dict:
    page.wait_for_function(
        """id => { const v = document.querySelector(`.card[data-job-id="${id}"] video`);
                   return v && v.readyState >= 2 && v.videoWidth > 0 && v.currentTime > 0; }""",
        arg=job_id,
        timeout=30_000,
    )
    return page.evaluate(
        """id => { const v = document.querySelector(`.card[data-job-id="${id}"] video`);
                   return {readyState: v.readyState, w: v.videoWidth, h: v.videoHeight, paused: v.paused,
                           muted: v.muted, loop: v.loop, duration: v.duration, error: v.error && v.error.code}; }""",
        job_id,
    )


def _submit(page, prompt: str, duration: str) -> str:
    before = set(_job_ids(page))
    page.fill("#prompt", prompt)
    page.fill("#duration", duration)
    page.click("#generate")
    page.wait_for_function("n => document.querySelectorAll('#jobs .job').length > n", arg=len(before))
    (new,) = set(_job_ids(page)) - before
    return new


def test_studio_end_to_end(browser, server, photos, tmp_path):
    context, page, errors = _open(browser, server.url + "/")
    shots = _Shots(page, tmp_path / "shots")
    try:
        # The engine picker fills from /v1/engines; the built-in engine is ready.
        page.wait_for_selector("#server-status[data-state=ok]")
        assert page.input_value("#engine") == "living"
        assert page.is_disabled("#generate"), "Generate must wait for a photo"

        # The settings come from GET /v1/options: ranges, steps, defaults, choices and presets (no copies in the page).
        with urllib.request.urlopen(server.url + "/v1/options", timeout=10) as r:
            options = json.loads(r.read())
        fields = {f["name"]: f for f in options["fields"]}
        for name in ("duration", "fps", "motion_strength", "seed"):
            f = fields[name]
            for attr, key in (("min", "minimum"), ("max", "maximum"), ("step", "step")):
                assert page.get_attribute(f"#{name}", attr) == _js(f[key]), (name, attr)
            assert page.input_value(f"#{name}") == ("" if f["default"] is None else _js(f["default"])), name
        assert page.eval_on_selector_all("#aspect option", "os => os.map(o => o.value)") == fields["aspect"]["enum"]
        assert page.input_value("#aspect") == fields["aspect"]["default"]
        assert (
            page.eval_on_selector_all("input[name=resolution]", "rs => rs.map(r => r.value)")
            == fields["resolution"]["enum"]
        )
        assert page.is_checked(f"input[name=resolution][value='{fields['resolution']['default']}']")
        assert page.eval_on_selector_all("#preset option", "os => os.map(o => o.value)") == ["", *options["presets"]]
        assert page.inner_text("[data-unit=duration]") == fields["duration"]["unit"]
        assert page.inner_text("#motion-out") == f"{fields['motion_strength']['default']:.2f}"
        for name, preset in options["presets"].items():  # a preset sets what the server says it sets
            page.select_option("#preset", name)
            assert page.input_value("#duration") == _js(preset["duration"]), name
            assert page.input_value("#aspect") == preset["aspect"] and page.is_checked("#loop") == preset["loop"], name
        page.select_option("#preset", "")
        page.select_option("#aspect", fields["aspect"]["default"])
        page.set_checked("#loop", fields["loop"]["default"])
        page.fill("#duration", _js(fields["duration"]["default"]))

        # Upload: the analysis and its advice appear at once.
        page.set_input_files("#photo-input", str(photos["coffee"]))
        page.wait_for_selector("#analysis .verdict")
        assert page.is_visible("#photo-img")
        verdict = page.inner_text("#analysis .verdict")
        assert "Expected:" in verdict and "product" in verdict.lower(), verdict
        recs = page.locator("#analysis .rec")
        assert recs.count() >= 1
        assert page.locator(".chip.suggested[data-element=steam]").count() == 1  # the analysis found steam
        # A recommended prompt fills the prompt box.
        first_rec = recs.first.inner_text()
        recs.first.click()
        assert page.input_value("#prompt") == first_rec
        page.wait_for_selector("#coach[data-state=ok], #coach[data-state=advice], #coach[data-state=warning]")
        shots("01-photo-analysed")

        # Live coaching: a vague prompt gets a low score, a warning and a rewrite; "Use this" applies it.
        page.fill("#prompt", "make it move")
        page.wait_for_selector("#coach[data-state=warning]", timeout=30_000)
        score = int(page.inner_text("#coach-score-num"))
        assert score < 80, score
        assert page.is_visible("#coach-rewrite")
        rewrite = page.inner_text("#coach-rewrite-text")
        assert rewrite
        page.click("#coach-use")
        assert page.input_value("#prompt") == rewrite
        # Suggestion chips add to (and toggle out of) the prompt.
        page.fill("#prompt", "")
        page.click(".chip[data-add='slow push-in']")
        page.click(".chip[data-add='steam rising from the cup']")
        assert page.input_value("#prompt") == "slow push-in, steam rising from the cup"
        assert page.get_attribute(".chip[data-add='slow push-in']", "aria-pressed") == "true"
        page.wait_for_function("() => /^\\d+$/.test(document.querySelector('#coach-score-num').textContent)")

        # Settings: 1 s at 480p, a fixed seed, and a preset that fills aspect / duration / loop.
        page.select_option("#preset", "reels")
        assert page.input_value("#aspect") == "9:16" and page.input_value("#duration") == "6"
        assert page.is_checked("#loop")
        page.select_option("#preset", "")
        page.select_option("#aspect", "source")
        page.uncheck("#loop")
        page.fill("#duration", "1")
        page.click("label[for=res-480p]")
        assert page.is_checked("#res-480p")
        page.fill("#seed", "1234")
        page.click("#generate")

        # The job appears in the queue with a progress bar, then finishes and plays in the gallery.
        page.wait_for_selector("#jobs .job")
        job_id = _job_ids(page)[0]
        row = f'#jobs .job[data-job-id="{job_id}"]'
        page.wait_for_selector(f"{row} .status")
        shots("02-queued")
        page.wait_for_selector(f"{row}[data-status=succeeded]", timeout=RENDER_TIMEOUT_MS)
        card = f'.card[data-job-id="{job_id}"]'
        page.wait_for_selector(card)
        info = _wait_video_plays(page, job_id)
        assert info["readyState"] >= 2 and info["muted"] and info["loop"] and not info["error"], info
        assert min(info["w"], info["h"]) == 480, info
        assert page.text_content(f"{row} .status") == "Done"
        recipe = page.inner_text(f"{card} .recipe")
        assert "living" in recipe and "1234" in recipe, recipe
        assert "score" in recipe and "camera" in recipe, recipe  # the worker's measured quality
        assert page.get_attribute(f"{card} a[download]", "href") == f"/v1/jobs/{job_id}/video"
        page.wait_for_timeout(400)
        shots("03-finished")

        # The history survives a reload (it comes from GET /v1/jobs).
        page.reload()
        page.wait_for_selector(f"{row}[data-status=succeeded]")
        page.wait_for_selector(card)
        _wait_video_plays(page, job_id)

        # "Reuse settings" fills the form from the clip's recipe.
        page.fill("#prompt", "")
        page.fill("#seed", "")
        page.click(f"{card} >> text=Reuse settings")
        assert page.input_value("#prompt") == "slow push-in, steam rising from the cup"
        assert page.input_value("#seed") == "1234"
        assert page.input_value("#duration") == "1"
        assert page.is_checked("#res-480p")

        # "Save as recipe" on the card keeps its settings by name; the Recipe picker by the prompt offers it
        # and fills the form from GET /v1/recipes/{name} (the server owner's library: this open server's caller).
        assert page.is_visible("#recipe-field")
        page.click(f"{card} >> text=Save as recipe")
        page.fill(f"{card} .recipe-save input[aria-label='Recipe name']", "steam-push")
        page.press(f"{card} .recipe-save input", "Enter")
        page.wait_for_selector("#recipe option[value='steam-push']", state="attached")
        assert not page.locator(f"{card} .recipe-save").count()  # the name field closes once saved
        page.fill("#prompt", "")
        page.fill("#duration", "3")
        page.select_option("#recipe", "steam-push")
        page.wait_for_function("() => document.querySelector('#prompt').value !== ''")
        assert page.input_value("#prompt") == "slow push-in, steam rising from the cup"
        assert page.input_value("#duration") == "1"
        assert page.inner_text("#recipe-notice").startswith("Loaded “steam-push”")  # nothing dropped
        with urllib.request.urlopen(server.url + "/v1/recipes/steam-push", timeout=10) as r:
            assert json.loads(r.read())["settings"]["prompt"] == "slow push-in, steam rising from the cup"
        shots("03b-recipe")

        # "Use as start image": the clip's frame becomes the photo and is analysed.
        page.click(f"{card} >> text=Use as start image")
        page.wait_for_function("() => document.querySelector('#photo-name').textContent.includes('frame of clip')")
        page.wait_for_selector("#analysis .verdict")
        assert not page.is_disabled("#generate")

        # A second clip, and a long third one canceled while it waits for the worker.
        second = _submit(page, "slow orbit right, steam rising from the cup", "1")
        third = _submit(page, "gentle pan from left to right", "30")
        fourth = _submit(page, "static camera, steam rising from the cup", "30")
        page.click(f'#jobs .job[data-job-id="{fourth}"] >> text=Cancel')  # canceled while queued
        page.wait_for_selector(f'#jobs .job[data-job-id="{fourth}"][data-status=canceled]', timeout=60_000)
        page.wait_for_selector(f'#jobs .job[data-job-id="{second}"][data-status=succeeded]', timeout=RENDER_TIMEOUT_MS)
        _wait_video_plays(page, second)
        # The long one renders: its bar and ETA move (live over SSE); then it is canceled mid-render.
        long_row = f'#jobs .job[data-job-id="{third}"]'
        page.wait_for_function(
            """sel => { const r = document.querySelector(sel);
                        return r && r.dataset.status === 'running'
                               && Number(r.querySelector('.progress').getAttribute('aria-valuenow')) >= 3
                               && /left/.test(r.querySelector('.job-detail').textContent); }""",
            arg=long_row,
            timeout=RENDER_TIMEOUT_MS,
        )
        assert "%" in page.text_content(f"{long_row} .job-detail")
        page.wait_for_timeout(300)
        shots("04-rendering")
        page.click(f"{long_row} >> text=Cancel")
        page.wait_for_selector(f"{long_row}[data-status=canceled]", timeout=60_000)
        assert not page.locator(f'.card[data-job-id="{third}"], .card[data-job-id="{fourth}"]').count()

        # Compare the two clips side by side.
        assert page.is_disabled("#compare-open")
        page.check(f'.card[data-job-id="{job_id}"] .compare-toggle input')
        page.check(f'.card[data-job-id="{second}"] .compare-toggle input')
        page.click("#compare-open")
        page.wait_for_selector("#compare-dialog[open]")
        page.wait_for_function(
            "() => { const v = document.querySelectorAll('#compare-body video');"
            " return v.length === 2 && [...v].every(x => x.readyState >= 2); }"
        )
        assert page.locator("#compare-body .diff").count() >= 1  # the prompts differ
        page.wait_for_timeout(300)
        shots("05-compare")
        page.keyboard.press("Escape")
        page.wait_for_function("() => !document.querySelector('#compare-dialog').open")

        assert not errors, errors
    finally:
        try:
            shots("99-last")
        except Exception:
            pass
        context.close()


def test_studio_asks_for_the_key(browser, tmp_path):
    """A server with per-person keys: the page asks for the key once, keeps it for the tab
    (sessionStorage), streams progress with a short-lived ticket and never puts the key in a URL."""
    data = tmp_path / "data"
    made = subprocess.run(
        [sys.executable, "-m", "stillmotion.cli", "keys", "add", "ana", "--data", str(data)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    srv = _Server(data, tmp_path / "server.log")
    try:
        context, page, errors = _open(browser, srv.url + "/")
        urls: list[str] = []
        page.on("request", lambda req: urls.append(req.url))
        try:
            # The page itself is public; the API answers 401, so the key field appears.
            page.wait_for_selector("#token-form:not([hidden])")
            assert page.get_attribute("#server-status", "data-state") == "auth"
            page.fill("#token-input", key)
            page.press("#token-input", "Enter")
            page.wait_for_selector("#server-status[data-state=ok]")
            assert page.input_value("#engine") == "living"
            assert page.evaluate("() => sessionStorage.getItem('stillmotion.token')") == key
            assert page.evaluate("() => localStorage.getItem('stillmotion.token')") is None
            page.reload()  # the same tab keeps the key: no second prompt
            page.wait_for_selector("#server-status[data-state=ok]")
            assert page.is_hidden("#token-form")
            assert page.is_hidden("#recipe-field")  # a non-admin key: the owner's recipes are not offered
            # Analysis works with the stored key.
            import numpy as np
            from PIL import Image

            img = tmp_path / "grad.png"
            Image.fromarray((np.indices((360, 640)).sum(0) % 256).astype("uint8")).convert("RGB").save(img)
            page.set_input_files("#photo-input", str(img))
            page.wait_for_selector("#analysis .verdict")
            # A job with the key: progress over SSE with a ticket (EventSource cannot send the header),
            # the clip and its frame fetched with the header.
            page.fill("#prompt", "slow push-in")
            page.fill("#duration", "1")
            page.fill("#fps", "8")
            page.click("label[for=res-480p]")
            page.click("#generate")
            page.wait_for_selector("#jobs .job[data-status=succeeded]", timeout=RENDER_TIMEOUT_MS)
            (job_id,) = _job_ids(page)
            info = _wait_video_plays(page, job_id)
            assert info["readyState"] >= 2, info
            assert page.eval_on_selector(".card video", "v => v.src").startswith("blob:")
            assert page.is_hidden(".card >> text=Save as recipe")
            assert any(f"/v1/jobs/{job_id}/events?ticket=" in u for u in urls), urls
            assert not any(key in u for u in urls)
            assert not errors, errors
        finally:
            context.close()
    finally:
        srv.stop()
    assert key not in (tmp_path / "server.log").read_text(errors="replace")
