"""The command line: bad input gets one clear line, exit 2, no traceback, no file."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import typer
from PIL import Image
from typer.testing import CliRunner

from stillmotion.cli import app
from stillmotion.video import probe, read_video

runner = CliRunner()
FAST = ["--size", "256x170", "--duration", "1", "--fps", "8", "--seed", "1"]


def _cli(*args: str):
    return runner.invoke(app, list(args))


def _leftovers(folder: Path) -> list[str]:
    return sorted(
        p.name for p in folder.iterdir() if p.suffix in (".mp4", ".json", ".png", ".part") or ".part" in p.name
    )


def _bad_inputs(tmp_path: Path, photos) -> dict[str, Path]:
    d = tmp_path / "bad"
    d.mkdir()
    (d / "notes.txt").write_text("not an image\n")
    good = photos["coffee"].read_bytes()
    jpg = d / "cut.jpg"
    Image.open(photos["coffee"]).convert("RGB").save(jpg, quality=90)
    jpg.write_bytes(jpg.read_bytes()[: len(jpg.read_bytes()) // 2])
    png = d / "cut.png"
    png.write_bytes(good[: len(good) // 3])
    noise = d / "noise.png"
    noise.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(2000))
    bomb = d / "bomb.png"
    Image.new("1", (11000, 10000)).save(bomb)  # 110 megapixels, a few KB on disk
    sliver = d / "sliver.png"
    Image.new("RGB", (2000, 20), (120, 130, 140)).save(sliver)
    speck = d / "speck.png"
    Image.new("RGB", (8, 8), (120, 130, 140)).save(speck)
    return {
        "txt": d / "notes.txt",
        "jpg": jpg,
        "png": png,
        "noise": noise,
        "bomb": bomb,
        "sliver": sliver,
        "speck": speck,
        "dir": d,
        "missing": d / "nope.jpg",
    }


@pytest.mark.parametrize(
    "case,needle",
    [
        ("missing", "does not exist"),
        ("dir", "folder"),
        ("txt", "not a supported image"),
        ("jpg", "truncated"),
        ("png", "truncated"),
        ("noise", "corrupt"),
        ("bomb", "pixels"),
        ("sliver", "aspect"),
        ("speck", "only 8×8"),
    ],
)
def test_bad_photos_give_one_line_and_exit_2(tmp_path, photos, case, needle, monkeypatch):
    bad = _bad_inputs(tmp_path, photos)
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.chdir(out)
    res = _cli("animate", str(bad[case]), "-p", "slow push-in", *FAST)
    assert res.exit_code == 2, res.output
    lines = [ln for ln in res.output.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, res.output
    assert lines[0].startswith("error:") and needle in lines[0].lower(), lines[0]
    assert "Traceback" not in res.output
    assert _leftovers(out) == []


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--duration", "0.5"], "--duration"),
        (["--duration", "100"], "--duration"),
        (["--fps", "0"], "--fps"),
        (["--fps", "1000"], "--fps"),
        (["--size", "10x10"], "--size"),
        (["--size", "1281x720"], "odd"),
        (["--size", "big"], "wxh"),
        (["--motion-strength", "2"], "--motion-strength"),
        (["--variations", "0"], "--variations"),
        (["-o", "clip.avi"], ".mp4"),
        (["-o", "no/such/folder/clip.mp4"], "does not exist"),
        (["--engine", "sora"], "unknown"),
    ],
)
def test_bad_options_give_one_line_and_exit_2(tmp_path, photos, args, needle, monkeypatch):
    monkeypatch.chdir(tmp_path)
    base = ["--size", "256x170", "--duration", "1", "--fps", "8"]
    # later flags win in click, so the bad value is appended after the defaults
    res = _cli("animate", str(photos["coffee"]), "-p", "pan left", *base, *args)
    assert res.exit_code == 2, res.output
    lines = [ln for ln in res.output.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and needle in lines[0].lower(), res.output
    assert _leftovers(tmp_path) == []


def test_unwritable_output_leaves_nothing(tmp_path, photos):
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    res = _cli("animate", str(photos["coffee"]), *FAST, "-o", str(blocker / "clip.mp4"))
    assert res.exit_code == 2
    assert "error:" in res.output and "Traceback" not in res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_animate_writes_a_browser_ready_mp4_with_its_recipe(tmp_path, photos):
    out = tmp_path / "cup.mp4"
    res = _cli(
        "animate",
        str(photos["coffee"]),
        "-p",
        "slow push-in, shallow depth of field",
        "--explain",
        "-n",
        "camera shake",
        *FAST,
        "-o",
        str(out),
    )
    assert res.exit_code == 0, res.output
    assert "Camera: push-in" in res.output and "Lens: shallow depth of field" in res.output
    info = probe(out)
    assert (info["width"], info["height"], info["frame_count"]) == (256, 170, 8)
    assert info["codec"] == "h264" and info["pix_fmt"] == "yuv420p" and info["faststart"]
    assert info["color_primaries"] == "bt709"
    recipe = json.loads(info["metadata"]["comment"])
    sidecar = json.loads(out.with_suffix(".json").read_text())
    assert recipe == sidecar
    assert recipe["prompt"].startswith("slow push-in") and recipe["negative_prompt"] == "camera shake"
    assert recipe["seed"] == 1 and recipe["engine"] == "living" and recipe["stillmotion"]
    assert recipe["request"]["duration"] == 1.0 and recipe["request"]["fps"] == 8.0
    assert {"load", "understand", "plan", "prepare", "render_encode", "total"} <= set(recipe["timings_s"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cup.json", "cup.mp4"]


def test_default_output_name_never_overwrites(tmp_path, photos, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for _ in range(2):
        assert _cli("animate", str(photos["coffee"]), *FAST, "-q").exit_code == 0
    assert sorted(p.name for p in tmp_path.glob("*.mp4")) == ["coffee-2.mp4", "coffee.mp4"]


def test_defaults_are_5s_24fps_720p_at_the_photos_aspect(tmp_path, photos):
    out = tmp_path / "d.mp4"
    res = _cli("animate", str(photos["china"]), "-p", "static camera", "-o", str(out), "-q")
    assert res.exit_code == 0, res.output
    info = probe(out)
    # china.jpg is 640×427: 720 high at its aspect → 1080×720 (even sides)
    assert (info["height"], info["frame_count"], round(info["fps"])) == (720, 120, 24)
    assert abs(info["width"] / info["height"] - 640 / 427) < 0.01
    assert any("upscaled" in w for w in json.loads(out.with_suffix(".json").read_text())["warnings"])


@pytest.mark.parametrize("make", ["exif", "grey", "16bit", "cmyk", "alpha", "gif", "tiny"])
def test_awkward_photos_animate(tmp_path, photos, make):
    src = np.asarray(Image.open(photos["chelsea"]).convert("RGB"))
    p = tmp_path / f"in_{make}"
    if make == "exif":
        p = p.with_suffix(".jpg")
        exif = Image.Exif()
        exif[0x0112] = 6  # rotate 90° clockwise on display
        Image.fromarray(src).save(p, exif=exif)
    elif make == "grey":
        p = p.with_suffix(".png")
        Image.fromarray(src).convert("L").save(p)
    elif make == "16bit":
        p = p.with_suffix(".png")
        grey = np.asarray(Image.fromarray(src).convert("L"), np.uint16) * 257
        Image.fromarray(grey).save(p)
    elif make == "cmyk":
        p = p.with_suffix(".jpg")
        Image.fromarray(src).convert("CMYK").save(p)
    elif make == "alpha":
        p = p.with_suffix(".png")
        rgba = np.dstack([src, np.full(src.shape[:2], 255, np.uint8)])
        rgba[:40, :40, 3] = 0
        Image.fromarray(rgba, "RGBA").save(p)
    elif make == "gif":
        p = p.with_suffix(".gif")
        frames = [Image.fromarray(src), Image.fromarray(src[::-1].copy())]
        frames[0].save(p, save_all=True, append_images=frames[1:], duration=100, loop=0)
    elif make == "tiny":
        p = p.with_suffix(".png")
        Image.fromarray(src).resize((120, 80)).save(p)
    out = tmp_path / "o.mp4"
    res = _cli(
        "animate", str(p), "-p", "slow push-in", "--duration", "1", "--fps", "8", "--resolution", "480p", "-o", str(out)
    )
    assert res.exit_code == 0, res.output
    f = read_video(out).frames_thwc
    assert len(f) == 8 and min(f.shape[1:3]) == 480
    if make == "exif":
        assert f.shape[1] > f.shape[2]  # the cat is portrait once the EXIF rotation is applied
    if make in ("gif", "tiny"):
        assert "warning:" in res.output


def test_console_script_exits_2_without_traceback(tmp_path):
    exe = Path(sys.executable).parent / "stillmotion"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "stillmotion.cli"]
    proc = subprocess.run(
        [*cmd, "animate", str(tmp_path / "missing.jpg"), "-p", "pan left"], capture_output=True, text=True, cwd=tmp_path
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "does not exist" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert list(tmp_path.iterdir()) == []


def test_engines_lists_living():
    res = _cli("engines")
    assert res.exit_code == 0 and "living" in res.output and "yes" in res.output


@pytest.mark.parametrize(
    "preset,aspect,duration,loop",
    [("reels", "9:16", 6.0, True), ("linkedin", "4:5", 6.0, False), ("web-loop", "16:9", 8.0, True)],
)
def test_platform_presets_set_aspect_duration_and_loop(tmp_path, photos, preset, aspect, duration, loop):
    out = tmp_path / "p.mp4"
    res = _cli(
        "animate", str(photos["coffee"]), "--preset", preset, "--resolution", "480p", "--fps", "8", "-o", str(out)
    )
    assert res.exit_code == 0, res.output
    r = json.loads(out.with_suffix(".json").read_text())["request"]
    assert (r["aspect"], r["duration"], r["loop"], r["preset"]) == (aspect, duration, loop, preset)
    info = probe(out)
    w, h = (int(v) for v in aspect.split(":"))
    assert abs(info["width"] / info["height"] - w / h) < 0.02
    assert info["frame_count"] == int(duration * 8)


def test_explicit_options_beat_the_preset(tmp_path, photos):
    out = tmp_path / "p.mp4"
    res = _cli(
        "animate",
        str(photos["coffee"]),
        "--preset",
        "reels",
        "--duration",
        "2",
        "--no-loop",
        "--aspect",
        "1:1",
        "--resolution",
        "480p",
        "--fps",
        "8",
        "-o",
        str(out),
    )
    assert res.exit_code == 0, res.output
    r = json.loads(out.with_suffix(".json").read_text())["request"]
    assert (r["aspect"], r["duration"], r["loop"]) == ("1:1", 2.0, False)


def test_analyze_prints_advice_and_json(photos):
    res = _cli("analyze", str(photos["china"]), "-p", "make it move")
    assert res.exit_code == 0, res.output
    assert "landscape" in res.output and 'Try: "' in res.output and "too vague" in res.output
    res = _cli("analyze", str(photos["astronaut"]), "--json")
    data = json.loads(res.output)
    assert data["kind"] == "portrait" and data["faces"] == 1 and data["prompt"] is None
    res = _cli("analyze", str(photos["china"]) + ".missing")
    assert res.exit_code == 2 and res.output.startswith("error:")


def test_animate_warns_about_a_weak_prompt_first(tmp_path, photos):
    out = tmp_path / "w.mp4"
    res = _cli("animate", str(photos["china"]), "-p", "A beautiful woman at the beach", *FAST, "-o", str(out))
    assert res.exit_code == 0, res.output
    assert "warning: prompt: describes the scene" in res.output
    recipe = json.loads(out.with_suffix(".json").read_text())
    assert recipe["analysis"]["kind"] == "landscape" and recipe["analysis"]["prompt_score"] < 80


# ---------------------------------------------------------------- front doors: the same flags and errors everywhere


def _commands(group, prefix: str = "") -> list[str]:
    """Every command, those of a group (``keys add``) included, as the words that run it."""
    out = []
    for name, cmd in sorted(group.commands.items()):
        sub = getattr(cmd, "commands", None)
        out += _commands(cmd, f"{prefix}{name} ") if sub is not None else [f"{prefix}{name}"]
    return out


COMMANDS = _commands(typer.main.get_command(app))
WRITES = {"animate", "analyze", "eval", "compare", "interpolate", "upscale", "loop", "merge", "export", "sound"}
REPORTS = {"analyze", "eval", "compare", "engines", "keys list", "batch", "recipes list"}


def _sub(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "stillmotion.cli", *args], capture_output=True, text=True, cwd=cwd, timeout=120
    )


@pytest.mark.parametrize("command", COMMANDS)
def test_every_subcommand_helps_in_words_and_takes_the_common_flags(command, tmp_path):
    proc = _sub(*command.split(), "--help", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    text = proc.stdout
    assert not re.search(r"<\w+(\[\w+\])?>", text), text  # no <path>, <list[Path]>, <str>: metavars in words
    assert "-q, --quiet" in text
    assert ("-o, --output" in text) == (command in WRITES), text
    assert ("--json" in text) == (command in REPORTS), text


@pytest.mark.parametrize(
    "args",
    [
        ["animate", "PHOTO", "--preset", "foo"],
        ["animate", "PHOTO", "--loop", "--no-such-option"],
        ["animate"],
        ["analyze", "PHOTO", "--aspect", "3:2"],
        ["eval", "missing.mp4"],
        ["serve", "--port", "abc"],
        ["serve", "--workers", "99"],
        ["upscale", "missing.mp4", "--scale", "x"],
        ["interpolate", "missing.mp4", "--fps", "fast"],
        ["export", "missing.mp4", "-o", "out.gif", "--crf", "best"],
        ["loop", "missing.mp4", "-q"],
        ["batch", "missing.csv", "--out", "out"],
        ["batch", "PHOTO", "--out", "out"],
        ["frobnicate"],
    ],
)
def test_bad_input_anywhere_is_one_error_line_and_exit_2(args, tmp_path, photos):
    proc = _sub(*[str(photos["coffee"]) if a == "PHOTO" else a for a in args], cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    for noise in ("Traceback", "Usage:", "Value error", "Try '"):
        assert noise not in proc.stderr + proc.stdout
    assert list(tmp_path.iterdir()) == []


def test_version_flag_and_command(tmp_path):
    from stillmotion import __version__

    assert _sub("--version", cwd=tmp_path).stdout == f"{__version__}\n"
    assert _cli("version", "-q").output == f"{__version__}\n"


def test_engines_json_and_quiet():
    rows = json.loads(_cli("engines", "--json").output)
    living = next(r for r in rows if r["name"] == "living")
    assert living["ready"] is True and {"family", "reason", "licence", "summary", "capabilities"} <= set(living)
    assert living["availability"]["state"] == "ready" and living["capabilities"]["end_frame"] is False
    assert "living" in _cli("engines", "-q").output.splitlines()


def test_reports_write_their_json_atomically(tmp_path, photos):
    report = tmp_path / "report.json"
    res = _cli("analyze", str(photos["astronaut"]), "-o", str(report), "-q")
    assert res.exit_code == 0 and res.output == f"{report}\n", res.output
    data = json.loads(report.read_text())
    assert data["kind"] == "portrait" and data["faces"] == 1
    assert _cli("analyze", str(photos["astronaut"]), "-o", str(tmp_path / "report.txt")).exit_code == 2

    clip = tmp_path / "c.mp4"
    assert _cli("animate", str(photos["coffee"]), *FAST, "-o", str(clip), "-q").exit_code == 0
    ev = tmp_path / "eval.json"
    res = _cli("eval", str(clip), "--json", "-o", str(ev), "-q")
    assert res.exit_code == 0
    assert json.loads(res.stdout) == json.loads(ev.read_text()) and json.loads(ev.read_text())["score"] > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.json", "c.mp4", "eval.json", "report.json"]


def test_finishing_commands_take_quiet(tmp_path, photos):
    clip = tmp_path / "c.mp4"
    assert _cli("animate", str(photos["coffee"]), *FAST, "-o", str(clip), "-q").exit_code == 0
    out = tmp_path / "l.mp4"
    res = _cli("loop", str(clip), "--mode", "pingpong", "-q", "-o", str(out))
    assert res.exit_code == 0 and res.output == f"{out}\n", res.output
    assert probe(out)["frame_count"] > 8


# ---------------------------------------------------------------- animate, batch, analyze: built on first use


def test_the_root_lists_the_request_commands_with_their_own_help():
    """``REQUEST_COMMANDS`` (what ``stillmotion --help`` lists before ``cli_request`` is imported) is the real
    commands' help, in their order, and the root help is the same before and after they are built."""
    from stillmotion.cli import REQUEST_COMMANDS
    from stillmotion.cli_request import command

    group = typer.main.get_command(app)
    assert list(group.commands)[: len(REQUEST_COMMANDS)] == list(REQUEST_COMMANDS)
    for name, help_text in REQUEST_COMMANDS.items():
        real = command(name)
        assert (real.name, real.help, real.short_help, real.hidden, real.deprecated) == (
            name,
            help_text,
            None,
            False,
            False,
        )
    contexts = [group.context_class(group, info_name="stillmotion", terminal_width=w) for w in (60, 80, 100, 200)]
    before = [group.get_help(ctx) for ctx in contexts]
    assert "  animate      Animate PHOTO following the motion prompt; writes an MP4 and its recipe" in before[-1]
    built = {name: group.commands[name] for name in REQUEST_COMMANDS}  # a look-up builds the real command
    assert all("--quiet" in [o for p in c.params for o in p.opts] for c in built.values())
    assert [group.get_help(ctx) for ctx in contexts] == before
