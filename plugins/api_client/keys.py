"""API keys come from environment variables only, and never reach a file.

`api_key_from_env` raises a clear error naming the variable(s) to set; `redact` scrubs
every key value the process knows of from a string before it is stored or printed (an
error message echoed by a server, say), and also the masked echoes servers make of a
key (`Incorrect API key provided: sk-PLANT******3a9c`), whose visible ends still give
part of the key away; `public_endpoint` drops what a URL may carry besides
where it points (user:password@, a ?key= query) before the URL is recorded.
"""

from __future__ import annotations

import os
import re
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


# A key as a server echoes it masked: visible characters, a run of mask characters, visible
# characters (`sk-PLANT******3a9c`, `AIza...xyz1`, `sk-•••••3a9c`). Any such token is scrubbed,
# whether or not the key is one this process knows.
_MASK = r"(?:\*{3,}|•{3,}|\.{3,}|…)"
_MASKED_KEY = re.compile(rf"[A-Za-z0-9_\-]{{2,}}{_MASK}[A-Za-z0-9_\-]*|[A-Za-z0-9_\-]*{_MASK}[A-Za-z0-9_\-]{{4,}}")
_KEYLIKE = re.compile(r"[A-Za-z0-9_\-]")


def _is_masked_echo(token: str, secrets: set[str]) -> bool:
    """True when `token` is a masked key: of a known secret (its visible ends match), or key-like."""
    parts = [p for p in re.split(_MASK, token)]
    head, tail = parts[0], parts[-1]
    for secret in secrets:
        if (head and secret.startswith(head)) or (len(tail) >= 3 and secret.endswith(tail)):
            return True
    # Unknown key: the usual prefixes, or a long visible end (not "Loading..." or "wait...").
    return head.startswith(("sk-", "sk_", "AIza", "gm-", "key-")) or (len(head) + len(tail) >= 8 and bool(tail))


def redact(text: str | None, extra: Iterable[str] = ()) -> str | None:
    """`text` with the values of every API-key variable (and `extra` secrets), and masked echoes of
    keys, replaced by `[redacted]`."""
    if not text:
        return text
    secrets = {os.environ.get(name, "").strip() for name in (*KNOWN_KEY_VARIABLES, *_extra_variables)}
    secrets.update(s for s in extra if s)
    secrets = {s for s in secrets if len(s) >= 4}
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "[redacted]")
    return _MASKED_KEY.sub(lambda m: "[redacted]" if _is_masked_echo(m.group(0), secrets) else m.group(0), text)


def public_endpoint(url: str) -> str:
    """scheme://host[:port]/path of a URL: without the credentials, query or fragment it may carry."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))
