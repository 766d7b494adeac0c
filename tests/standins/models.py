"""The stand-in's own model catalogue: what the live provider says each model takes (issue 13).

Written from ``shared/notes/hosted-models.md``, not from stillmotion's registry, so a test that runs
stillmotion against the stand-in compares two independent readings of the provider. Each entry is an
:class:`SModel`: the cog-style ``Input`` properties and ``required`` list, plus how the stand-in renders
(which field holds the start image, how the duration and size follow from the inputs, whether it makes
sound). Source marks in the comments follow the notes: [C] confirmed, [S] secondary, [U] unconfirmed;
**guess** marks a value the notes do not give at all (a default, a range, a fixed output property).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

URI = "uri"
_RES_SHORT = {"480p": 480, "540p": 540, "720p": 720, "768p": 768, "1080p": 1080, "2k": 1440, "4k": 2160}
_RES_SHORT.update({"HD": 720, "FHD": 1080, "standard": 720, "std": 720, "pro": 1080})


def _p(type_: str, *, desc: str = "", **kw: Any) -> dict[str, Any]:
    """One property: ``type`` plus JSON-schema keywords (enum, minimum, maximum, default, format, items…)."""
    out: dict[str, Any] = {"type": type_, "title": "", "description": desc}
    out.update(kw)
    return out


def s(desc: str = "", **kw: Any) -> dict[str, Any]:
    return _p("string", desc=desc, **kw)


def i(desc: str = "", **kw: Any) -> dict[str, Any]:
    return _p("integer", desc=desc, **kw)


def n(desc: str = "", **kw: Any) -> dict[str, Any]:
    return _p("number", desc=desc, **kw)


def b(desc: str = "", **kw: Any) -> dict[str, Any]:
    return _p("boolean", desc=desc, **kw)


def uri(desc: str = "") -> dict[str, Any]:
    return _p("string", desc=desc, format=URI)


def uris(desc: str = "", **kw: Any) -> dict[str, Any]:
    return _p("array", desc=desc, items={"type": "string", "format": URI}, **kw)


@dataclass
class SModel:
    """A model the stand-in hosts: its input schema and how it renders a clip."""

    ref: str  # "owner/name"
    properties: dict[str, dict[str, Any]]
    required: list[str]
    image_fields: tuple[str, ...] = ()  # where the start/reference image comes from, first present wins
    video_field: str | None = None  # video-to-video models (upscalers, MMAudio, motion control)
    fixed_seconds: float = 5.0  # duration when the inputs carry none
    fps: float = 24.0
    short_side: int = 720  # when no resolution/mode field says otherwise
    sound: str = "none"  # none | always | generate_audio | audio_input | keep_original_sound | mux
    output_as_list: bool = False
    description: str = ""
    checks: list[Callable[[dict[str, Any]], str | None]] = field(default_factory=list)  # model-side failures
    kind: str = "video"  # video | upscale | mmaudio

    def input_schema(self) -> dict[str, Any]:
        props = copy.deepcopy(self.properties)
        for k, (name, prop) in enumerate(props.items()):
            prop["x-order"] = k
            prop["title"] = name.replace("_", " ").title()
        return {"type": "object", "title": "Input", "required": list(self.required), "properties": props}

    # -- what the model would produce for these inputs ---------------------------------------------------------

    def seconds(self, inp: dict[str, Any]) -> float:
        if "num_frames" in self.properties:
            fps = float(inp.get("frames_per_second", self.properties.get("frames_per_second", {}).get("default", 16)))
            frames = float(inp.get("num_frames", self.properties["num_frames"].get("default", 81)))
            return frames / fps
        for key, per in (("animation_length", 8.0), ("max_frames", 8.0)):  # frame-count models at 8 fps (guess)
            if key in self.properties:
                return float(inp.get(key, self.properties[key].get("default", 16))) / per
        for key in ("duration", "seconds"):
            if key in self.properties:
                v = inp.get(key, self.properties[key].get("default"))
                if v is not None:
                    return float(v)
        return self.fixed_seconds

    def frame_rate(self, inp: dict[str, Any]) -> float:
        if "frames_per_second" in self.properties:
            if inp.get("interpolate_output"):
                return 30.0
            return float(inp.get("frames_per_second", self.properties["frames_per_second"].get("default", 16)))
        for key in ("fps", "target_fps"):
            if key in self.properties:
                return float(inp.get(key, self.properties[key].get("default", self.fps)))
        return self.fps

    def short(self, inp: dict[str, Any]) -> int:
        for key in ("resolution", "target_resolution", "mode"):
            if key in self.properties:
                v = inp.get(key, self.properties[key].get("default"))
                if isinstance(v, str) and v in _RES_SHORT:
                    return _RES_SHORT[v]
        if "max_size" in self.properties:  # PIA: the long side
            return -int(inp.get("max_size", self.properties["max_size"].get("default", 512)))
        return self.short_side

    def aspect(self, inp: dict[str, Any]) -> float | None:
        """Width/height from an aspect_ratio field (used when there is no image to follow)."""
        v = inp.get("aspect_ratio", self.properties.get("aspect_ratio", {}).get("default"))
        if v == "landscape":
            return 16 / 9
        if v == "portrait":
            return 9 / 16
        if isinstance(v, str) and ":" in v:
            a, c = v.split(":")
            return float(a) / float(c)
        return None

    def has_sound(self, inp: dict[str, Any]) -> bool:
        if self.sound == "always" or self.sound == "mux":
            return True
        if self.sound == "generate_audio":
            return bool(inp.get("generate_audio", self.properties["generate_audio"].get("default", False)))
        if self.sound == "audio_input":
            return bool(inp.get("audio")) and bool(inp.get("save_audio", True))
        if self.sound == "keep_original_sound":
            return bool(inp.get("keep_original_sound", True))
        return False


def _kling21_end_needs_pro(inp: dict[str, Any]) -> str | None:
    if inp.get("end_image") and inp.get("mode", "standard") != "pro":
        return "end_image requires mode 'pro'"  # the notes quote "pro mode is required when this parameter is set"
    return None


def _hailuo_10s_only_768p(inp: dict[str, Any]) -> str | None:
    if int(inp.get("duration", 6)) == 10 and inp.get("resolution", "768p") != "768p":
        return "10 second videos are only available at 768p"  # [S] "10 only at 768p"; the wording is a guess
    return None


_RATIOS_6 = ["16:9", "9:16", "4:3", "3:4", "1:1", "21:9"]
_PROMPT = s("Text prompt for video generation")
_NEG = s("Things you do not want to see in the video", default="")
_SEED = i("Random seed. Set for reproducible generation")

CATALOGUE: list[SModel] = [
    # ---- Kling ------------------------------------------------------------------------------------------------
    SModel(  # NT version daad218f [C-ish]; prompt required is a guess (the notes star only start_image)
        "kwaivgi/kling-v2.1",
        {
            "prompt": _PROMPT,
            "negative_prompt": _NEG,
            "start_image": uri("First frame of the video"),
            "end_image": uri("Last frame of the video (pro mode is required when this parameter is set)"),
            "mode": s("standard: 720p, pro: 1080p. Both are 24fps.", enum=["standard", "pro"], default="standard"),
            "duration": i("Duration of the video in seconds", enum=[5, 10], default=5),
        },
        ["prompt", "start_image"],
        image_fields=("start_image",),
        checks=[_kling21_end_needs_pro],
    ),
    SModel(  # [S] llmhub copy of llms.txt + 9R; generate_audio default true is a guess (fal's default)
        "kwaivgi/kling-v2.6",
        {
            "prompt": _PROMPT,
            "negative_prompt": _NEG,
            "start_image": uri("First frame of the video"),
            "aspect_ratio": s("Ignored when start_image is set", enum=["16:9", "9:16", "1:1"], default="16:9"),
            "duration": i("Duration of the video in seconds", enum=[5, 10], default=5),
            "generate_audio": b("Generate audio with the video", default=True),
        },
        ["prompt"],
        image_fields=("start_image",),
        sound="generate_audio",
    ),
    SModel(  # [C] version page 4a8ba274; 4k mode is 9R's [S]
        "kwaivgi/kling-v3-video",
        {
            "prompt": _PROMPT,
            "negative_prompt": _NEG,
            "start_image": uri("First frame of the video"),
            "end_image": uri("Last frame of the video (requires start_image)"),
            "mode": s("standard: 720p, pro: 1080p", enum=["standard", "pro", "4k"], default="pro"),
            "aspect_ratio": s("Ignored when start_image is set", enum=["16:9", "9:16", "1:1"], default="16:9"),
            "duration": i("Duration of the video in seconds", minimum=3, maximum=15, default=5),
            "generate_audio": b("Generate audio with the video", default=False),
            "multi_prompt": s("JSON list of up to 6 shots"),
        },
        ["prompt"],
        image_fields=("start_image",),
        sound="generate_audio",
    ),
    SModel(  # [S] generated skill file, version 0b9053d3; output length follows the motion video (capped)
        "kwaivgi/kling-v2.6-motion-control",
        {
            "prompt": s("Optional text prompt"),
            "image": uri("Character image"),
            "video": uri("Motion reference video (≤10 s in image mode, ≤30 s in video mode)"),
            "character_orientation": s("", enum=["image", "video"], default="image"),
            "mode": s("", enum=["std", "pro"], default="std"),
            "keep_original_sound": b("Keep the reference video's sound", default=True),
        },
        ["image", "video"],
        image_fields=("image",),
        video_field="video",
        sound="keep_original_sound",
    ),
    # ---- Runway, MiniMax, ByteDance ---------------------------------------------------------------------------
    SModel(  # NT version 6257a44f [C-ish] "5s and 10s 720p"; image required is a guess
        "runwayml/gen4-turbo",
        {
            "image": uri("Initial image for video generation (first frame)"),
            "prompt": s("Text prompt for video generation"),
            "duration": i("Duration of the output video in seconds", enum=[5, 10], default=5),
            "aspect_ratio": s("Video aspect ratio", enum=_RATIOS_6, default="16:9"),
            "seed": _SEED,
        },
        ["image"],
        image_fields=("image",),
    ),
    SModel(  # NT version 7574e16b [C-ish]; fixed 6 s at 25 fps, 720p: guesses (not in the notes)
        "minimax/video-01-live",
        {
            "prompt": s("Text prompt for generation"),
            "first_frame_image": uri("First frame image; the output has this image's aspect ratio"),
            "prompt_optimizer": b("Use prompt optimizer", default=True),
        },
        ["prompt", "first_frame_image"],
        image_fields=("first_frame_image",),
        fixed_seconds=6.0,
        fps=25.0,
    ),
    SModel(  # [S] 9R + Cloudflare proxy doc; 25 fps a guess
        "minimax/hailuo-2.3-fast",
        {
            "prompt": s("Text prompt for generation"),
            "first_frame_image": uri("First frame image"),
            "duration": i("Duration in seconds; 10 s only at 768p", enum=[6, 10], default=6),
            "resolution": s("", enum=["768p", "1080p"], default="768p"),
            "prompt_optimizer": b("Use prompt optimizer", default=True),
        },
        ["prompt", "first_frame_image"],
        image_fields=("first_frame_image",),
        fps=25.0,
        checks=[_hailuo_10s_only_768p],
    ),
    SModel(  # [S] 9R; duration 2–12 [U] (a mirror); default 5 and 1080p are guesses
        "bytedance/seedance-1-pro",
        {
            "prompt": _PROMPT,
            "image": uri("Input image for image-to-video generation"),
            "last_frame_image": uri("Last frame image (requires image)"),
            "duration": i("Video duration in seconds", minimum=2, maximum=12, default=5),
            "resolution": s("Video resolution", enum=["480p", "720p", "1080p"], default="1080p"),
            "aspect_ratio": s("Ignored if an image is used", enum=[*_RATIOS_6, "9:21"], default="16:9"),
            "fps": i("Frame rate", enum=[24], default=24),
            "camera_fixed": b("Whether to fix camera position", default=False),
            "seed": _SEED,
        },
        ["prompt"],
        image_fields=("image",),
    ),
    # ---- Wan --------------------------------------------------------------------------------------------------
    SModel(  # [S] 9R; duration range [U] → 2–15 (other hosts); required fields, 1080p default (fal) are guesses
        "wan-video/wan-2.7-i2v",
        {
            "prompt": _PROMPT,
            "negative_prompt": _NEG,
            "first_frame": uri("First frame image"),
            "last_frame": uri("Last frame image"),
            "first_clip": uri("Video to continue"),
            "audio": uri("Driving audio"),
            "resolution": s("", enum=["720p", "1080p"], default="1080p"),
            "duration": i("Duration in seconds", minimum=2, maximum=15, default=5),
            "enable_prompt_expansion": b("Let the model rewrite the prompt", default=True),
            "seed": _SEED,
        },
        ["prompt", "first_frame"],
        image_fields=("first_frame",),
        sound="audio_input",
    ),
    SModel(  # [S] 9R; existence [U] (see the notes); defaults are guesses
        "wan-video/wan-2.6-i2v",
        {
            "image": uri("Input image"),
            "prompt": _PROMPT,
            "negative_prompt": _NEG,
            "audio": uri("Driving audio"),
            "resolution": s("", enum=["720p", "1080p"], default="1080p"),
            "duration": i("Duration in seconds", enum=[5, 10, 15], default=5),
            "enable_prompt_expansion": b("Let the model rewrite the prompt", default=True),
            "multi_shots": b("Multi-shot generation", default=False),
            "seed": _SEED,
        },
        ["image", "prompt"],
        image_fields=("image",),
        sound="audio_input",
    ),
    SModel(  # [S] skill file, version 66226b38 (matches 9R)
        "wan-video/wan-2.5-i2v-fast",
        {
            "image": uri("Input image"),
            "prompt": _PROMPT,
            "negative_prompt": _NEG,
            "resolution": s("", enum=["720p", "1080p"], default="720p"),
            "duration": i("Duration in seconds", enum=[5, 10], default=5),
            "audio": uri("Audio (wav/mp3, 3–30 s)"),
            "enable_prompt_expansion": b("Let the model rewrite the prompt", default=True),
            "seed": _SEED,
        },
        ["image", "prompt"],
        image_fields=("image",),
        sound="audio_input",
    ),
    SModel(  # [C-ish] NT version 4eaf2b01; LoRA field names, go_fast default, prompt optional are guesses
        "wan-video/wan-2.2-i2v-fast",
        {
            "image": uri("Input image"),
            "prompt": s("Prompt for video generation"),
            "last_image": uri("Optional last frame"),
            "num_frames": i("Number of frames", minimum=81, maximum=121, default=81),
            "frames_per_second": i("Frames per second", minimum=5, maximum=30, default=16),
            "resolution": s("", enum=["480p", "720p"], default="480p"),
            "interpolate_output": b("Interpolate to 30 fps", default=False),
            "go_fast": b("Faster, slightly lower quality", default=True),
            "sample_shift": n("Sample shift", minimum=1, maximum=20, default=12),
            "seed": _SEED,
            "disable_safety_checker": b("Disable safety checker", default=False),
            "lora_weights_transformer": s("LoRA for the high-noise transformer"),
            "lora_scale_transformer": n("", default=1),
            "lora_weights_transformer_2": s("LoRA for the low-noise transformer"),
            "lora_scale_transformer_2": n("", default=1),
        },
        ["image"],
        image_fields=("image",),
    ),
    SModel(  # [C] llms.txt; enums per 9R [S]; duration range 2–10 and defaults are guesses
        "wan-video/wan-2.7-r2v",
        {
            "prompt": _PROMPT,
            "reference_images": uris("Reference images (not first frames)"),
            "reference_videos": uris("Reference videos"),
            "negative_prompt": _NEG,
            "resolution": s("", enum=["720p", "1080p"], default="1080p"),
            "aspect_ratio": s("", enum=["16:9", "9:16", "1:1", "4:3", "3:4"], default="16:9"),
            "duration": i("Duration in seconds", minimum=2, maximum=10, default=5),
            "shot_type": s("", enum=["single", "multi"], default="single"),
            "seed": _SEED,
        },
        ["prompt"],
        image_fields=("reference_images",),
    ),
    # ---- Character.AI, xAI, Pruna, Alibaba, OpenAI ------------------------------------------------------------
    SModel(  # [C] version page 8a2539bd; fixed ~5 s at 24 fps [U]; image required and 720 short side are guesses
        "character-ai/ovi-i2v",
        {
            "prompt": s("Prompt; speech in <S>…<E>, sound in <AUDCAP>…<ENDAUDCAP>"),
            "image": uri("First frame"),
            "seed": _SEED,
            "video_negative_prompt": s("", default="jitter, bad hands, blur, distortion"),
            "audio_negative_prompt": s("", default="robotic, muffled, echo, distorted"),
        },
        ["prompt", "image"],
        image_fields=("image",),
        sound="always",
    ),
    SModel(  # [S] 9R; duration range from the sibling r2v (1–10, default 8): guess
        "xai/grok-imagine-video",
        {
            "prompt": _PROMPT,
            "image": uri("First frame"),
            "duration": i("Duration in seconds", minimum=1, maximum=10, default=8),
            "resolution": s("", enum=["720p", "480p"], default="720p"),
        },
        ["prompt"],
        image_fields=("image",),
    ),
    SModel(  # [C] llms.txt + version b4126653; aspect enum values are a guess (only the default is given)
        "xai/grok-imagine-r2v",
        {
            "prompt": _PROMPT,
            "reference_images": uris("1–7 reference images, not used as starting frames", minItems=1, maxItems=7),
            "duration": i("Duration in seconds", minimum=1, maximum=10, default=8),
            "aspect_ratio": s("", enum=["16:9", "9:16", "1:1", "4:3", "3:4"], default="16:9"),
            "resolution": s("", enum=["480p", "720p"], default="480p"),
        },
        ["prompt", "reference_images"],
        image_fields=("reference_images",),
    ),
    SModel(  # [S] 9R; duration range 1–10/default 5, aspect enum, save_audio default are guesses
        "prunaai/p-video",
        {
            "prompt": _PROMPT,
            "image": uri("First frame"),
            "last_frame_image": uri("Last frame"),
            "audio": uri("Conditioning audio; the duration then follows the audio"),
            "duration": i("Duration in seconds", minimum=1, maximum=10, default=5),
            "aspect_ratio": s("", enum=["16:9", "9:16", "1:1", "4:3", "3:4"], default="16:9"),
            "resolution": s("", enum=["720p", "1080p"], default="720p"),
            "fps": i("Frames per second", enum=[24, 48], default=24),
            "draft": b("Draft mode", default=False),
            "prompt_upsampling": b("Rewrite the prompt", default=False),
            "save_audio": b("Keep the conditioning audio in the output", default=True),
            "disable_safety_filter": b("", default=False),
            "seed": _SEED,
        },
        ["prompt"],
        image_fields=("image",),
        sound="audio_input",
    ),
    SModel(  # [S] 9R + a cost registry; aspect enum and defaults are guesses
        "alibaba/happyhorse-1.0",
        {
            "prompt": _PROMPT,
            "image": uri("First frame"),
            "resolution": s("", enum=["720p", "1080p"], default="1080p"),
            "aspect_ratio": s("", enum=["16:9", "9:16", "1:1"], default="16:9"),
            "duration": i("Duration in seconds", minimum=3, maximum=15, default=5),
            "seed": _SEED,
        },
        ["prompt"],
        image_fields=("image",),
    ),
    SModel(  # [S] 9R; openai_api_key optional is [U]; defaults are guesses
        "openai/sora-2",
        {
            "openai_api_key": s("Your OpenAI API key (optional)"),
            "prompt": _PROMPT,
            "input_reference": uri("Image used as the first frame"),
            "seconds": i("Duration in seconds", enum=[4, 8, 12], default=4),
            "aspect_ratio": s("", enum=["portrait", "landscape"], default="portrait"),
        },
        ["prompt"],
        image_fields=("input_reference",),
    ),
    # ---- older open models ------------------------------------------------------------------------------------
    SModel(  # [C] version 6b3fb8d1; max_frames range 2–64 and 8 fps are guesses
        "ali-vilab/i2vgen-xl",
        {
            "image": uri("Input image"),
            "prompt": s("Describe the input image"),
            "max_frames": i("Number of frames", minimum=2, maximum=64, default=16),
            "guidance_scale": n("Scale for classifier-free guidance", minimum=1, maximum=20, default=9),
            "seed": _SEED,
        },
        ["image", "prompt"],
        image_fields=("image",),
        fps=8.0,
        short_side=704,
    ),
    SModel(  # [C] cog open-mmlab/PIA predict.py; whether the deployment matches is [U]; 8 fps a guess
        "cjwbw/pia",
        {
            "prompt": s("Input prompt"),
            "image": uri("Input image"),
            "negative_prompt": s("", default=""),
            "style": s("", enum=["3d_cartoon", "realistic"], default="3d_cartoon"),
            "max_size": i("Max size (the long side)", enum=list(range(512, 1025, 64)), default=512),
            "motion_scale": i("Larger is more motion", minimum=1, maximum=3, default=1),
            "sampling_steps": i("", minimum=10, maximum=100, default=25),
            "animation_length": i("Frames", minimum=8, maximum=24, default=16),
            "guidance_scale": n("", minimum=1, maximum=20, default=7.5),
            "ip_adapter_scale": n("", minimum=0, maximum=1, default=0),
            "seed": _SEED,
        },
        ["prompt", "image"],
        image_fields=("image",),
        fps=8.0,
    ),
    # ---- post-processing --------------------------------------------------------------------------------------
    SModel(  # [C] cog zsxkib/cog-mmaudio predict.py: returns the video with audio muxed in (FLAC without a video)
        "zsxkib/mmaudio",
        {
            "prompt": s("Text prompt for generated audio", default=""),
            "negative_prompt": s("Negative prompt", default="music"),
            "video": uri("Optional video file for video-to-audio generation"),
            "image": uri("Optional image"),
            "duration": n("Duration of output in seconds", minimum=1, maximum=30, default=8),  # range: guess
            "num_steps": i("Number of inference steps", minimum=1, maximum=50, default=25),  # range: guess
            "cfg_strength": n("Guidance strength", minimum=1, maximum=10, default=4.5),  # range: guess
            "seed": _SEED,
        },
        [],
        video_field="video",
        sound="mux",
        kind="mmaudio",
    ),
    SModel(  # [S] 9R; the enum is [U] (one repo sends "HD")
        "lucataco/real-esrgan-video",
        {
            "video_path": uri("Input video"),
            "resolution": s("Output resolution", enum=["FHD", "2k", "4k"], default="FHD"),
            "model": s(
                "Upscaling model",
                enum=["RealESRGAN_x4plus", "RealESRGAN_x4plus_anime_6B", "realesr-animevideov3"],
                default="RealESRGAN_x4plus",
            ),
        },
        ["video_path"],
        video_field="video_path",
        kind="upscale",
    ),
    SModel(  # [C-ish] NT; which hosted model "Video Increase Resolution" means is [U]
        "topazlabs/video-upscale",
        {
            "video": uri("Video file to upscale"),
            "target_resolution": s("Target resolution", enum=["720p", "1080p", "4k"], default="1080p"),
            "target_fps": i("Target FPS", minimum=15, maximum=120, default=60),
        },
        ["video"],
        video_field="video",
        kind="upscale",
    ),
]

MODELS: dict[str, SModel] = {m.ref: m for m in CATALOGUE}


def get(ref: str) -> SModel:
    return MODELS[ref]
