"""Encoder options shared by every model that embeds histories (retrieval, recommenders,
fusion): the WALS and sentence-embedding settings, and the encoders built from them."""

from __future__ import annotations

from pydantic import Field, field_validator

from regen_bench.contracts.model import ModelOptions
from regen_bench_plugins.encoders.devices import DEVICE_HELP, check_device, resolve_device


class CFOptions(ModelOptions):
    """WALS options (`CFEncoder`)."""

    factors: int = Field(default=64, ge=1, description="WALS factors (CF embedding size)")
    regularization: float = Field(default=0.05, ge=0.0, description="WALS L2 regularisation")
    alpha: float = Field(default=20.0, ge=0.0, description="WALS confidence slope: c = 1 + alpha * count")
    iterations: int = Field(default=15, ge=1, description="WALS iterations")


class TextOptions(ModelOptions):
    """Item-text embedding options (`TextEncoder`)."""

    text_model: str | None = Field(
        default=None, description="sentence-transformers folder or Hub id; default the bundled MiniLM"
    )
    include_review: bool = Field(default=False, description="embed review summary/text with the item text")
    text_batch_size: int = Field(default=64, ge=1)
    # Not in the options dump (exclude): a CPU run's config stays what it was; the device that
    # changes outputs is recorded by the encoder's id (and the model's `compute`) when it is not the CPU.
    device: str = Field(default="auto", exclude=True, description=f"torch device: {DEVICE_HELP}")

    @field_validator("device")
    @classmethod
    def _known_device(cls, value: str) -> str:
        return check_device(value)


class EncoderOptions(CFOptions, TextOptions):
    """Both encoders' options (fusion models)."""


def make_cf(options: CFOptions, seed: int):
    from regen_bench_plugins.encoders.cf import CFEncoder

    return CFEncoder(
        factors=options.factors,
        regularization=options.regularization,
        alpha=options.alpha,
        iterations=options.iterations,
        seed=seed,
    )


def text_device(options) -> str:
    """The resolved device of the text encoder (`device` option; cpu for options without one)."""
    return resolve_device(getattr(options, "device", "cpu"), "text encoder")


def make_text(options: TextOptions, device: str | None = None):
    """The text encoder; `device` a resolved torch device (default: the options' `device`, resolved)."""
    from regen_bench_plugins.encoders.text import TextEncoder

    device = text_device(options) if device is None else device

    return TextEncoder(
        model=options.text_model, include_review=options.include_review, batch_size=options.text_batch_size,
        device=device,
    )


def encoder_config(options, uses_cf: bool, uses_text: bool, device: str | None = None) -> dict:
    """The encoders' identities for `Model.config` (the text model's weights hash; its device when not the CPU)."""
    out: dict = {}
    if uses_cf:
        out["cf"] = {"kind": "wals", "library": "implicit.cpu.als", "confidence": "1 + alpha * count"}
    if uses_text:
        out["text"] = make_text(options, device).config()
    return out
