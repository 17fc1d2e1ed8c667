"""API keys come from environment variables only, and never reach a file.

`api_key_from_env` raises a clear error naming the variable(s) to set; `redact` scrubs
every key value the process knows of from a string before it is stored (an error
message echoed by a server, say); `public_endpoint` drops what a URL may carry besides
where it points (user:password@, a ?key= query) before the URL is recorded.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

from regen_bench_plugins.api_client.errors import MissingApiKeyError

# Variables whose values are always scrubbed by `redact`.
KNOWN_KEY_VARIABLES = ("OPENAI_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY")
_extra_variables: set[str] = set()


def api_key_from_env(names: str | Iterable[str], *, purpose: str) -> str:
    """The first non-empty value among the variables `names`; else MissingApiKeyError."""
    names = [names] if isinstance(names, str) else list(names)
    _extra_variables.update(names)
    for name in names:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    shown = " or ".join(names)
    raise MissingApiKeyError(
        f"{purpose} needs an API key: set the environment variable {shown}. "
        "Keys are read from the environment only and are never written to any file. "
        "(A local OpenAI-compatible server that ignores keys, e.g. Ollama, accepts any value.)"
    )


def redact(text: str | None, extra: Iterable[str] = ()) -> str | None:
    """`text` with the values of every API-key variable (and `extra` secrets) replaced."""
    if not text:
        return text
    secrets = {os.environ.get(name, "").strip() for name in (*KNOWN_KEY_VARIABLES, *_extra_variables)}
    secrets.update(s for s in extra if s)
    for secret in sorted((s for s in secrets if len(s) >= 4), key=len, reverse=True):
        text = text.replace(secret, "[redacted]")
    return text


def public_endpoint(url: str) -> str:
    """scheme://host[:port]/path of a URL: without the credentials, query or fragment it may carry."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))
