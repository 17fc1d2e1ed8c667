"""The adapter: item features (concatenated parts) -> one soft token in the LM's hidden size.

`mlp` (default): Linear(d_in, inner) - GELU - Linear(inner, hidden); `projection`: one
Linear(d_in, hidden). The input is the concatenation of the enabled parts, in the
order of `parts` (e.g. cf then text), each part L2-normalised per item and the
concatenation normalised again (the papers' "concatenate and normalise").

Each soft token has a kind (`HISTORY`, `TARGET`: the next purchase, for tasks about
it, or `POOLED`: the mean of the history's features, a summary token) and a learned
marker per kind is added, so the LM can tell them apart wherever they sit.
"""

from __future__ import annotations

import torch
from torch import nn

HISTORY, TARGET, POOLED = 0, 1, 2
KINDS = 3


class SoftTokenAdapter(nn.Module):
    def __init__(self, part_dims: dict[str, int], hidden: int, kind: str = "mlp", inner: int | None = None):
        super().__init__()
        if kind not in ("mlp", "projection"):
            raise ValueError(f"adapter must be 'mlp' or 'projection', not {kind!r}")
        if not part_dims:
            raise ValueError("the adapter needs at least one input part")
        self.parts = list(part_dims)
        self.part_dims = dict(part_dims)
        self.kind = kind
        self.in_dim = sum(part_dims.values())
        self.hidden = hidden
        self.inner = int(inner or hidden) if kind == "mlp" else None
        if kind == "mlp":
            self.net = nn.Sequential(nn.Linear(self.in_dim, self.inner), nn.GELU(), nn.Linear(self.inner, hidden))
        else:
            self.net = nn.Sequential(nn.Linear(self.in_dim, hidden))
        self.markers = nn.Parameter(torch.zeros(KINDS, hidden))

    def forward(self, features: torch.Tensor, kinds: torch.Tensor | None = None) -> torch.Tensor:
        """features (..., d_in) -> soft tokens (..., hidden); `kinds` (...) int adds each kind's marker."""
        out = self.net(features)
        if kinds is not None:
            out = out + self.markers[kinds.long()]
        return out

    def part_slices(self) -> dict[str, slice]:
        slices, start = {}, 0
        for part in self.parts:
            slices[part] = slice(start, start + self.part_dims[part])
            start += self.part_dims[part]
        return slices

    @torch.no_grad()
    def part_contributions(self, features: torch.Tensor) -> dict[str, torch.Tensor]:
        """Per item, the L2 norm of each part's contribution to the first linear layer.

        The first layer is linear, so its pre-activation splits exactly into one term
        per part: W x + b = sum_p W[:, p] x_p + b. Returns {part: (n,) norms of W[:, p] x_p}.
        For `projection` the first layer *is* the soft token (less the bias).
        """
        first = self.net[0]
        out = {}
        for part, sl in self.part_slices().items():
            out[part] = (features[..., sl] @ first.weight[:, sl].T).norm(dim=-1)
        return out

    @torch.no_grad()
    def part_outputs(self, features: torch.Tensor) -> dict[str, torch.Tensor]:
        """Per item, the norm of each part's effect on the soft token *after* the adapter.

        Part p's effect is A(x with only part p) - A(0): exact for `projection` (it is
        W_p x_p), an ablation for `mlp` (the non-linearity mixes the parts, so the
        effects need not add up to the soft token). Returns {part: (n,) norms}.
        """
        base = self.net(torch.zeros_like(features[..., :1, :]))
        out = {}
        for part, sl in self.part_slices().items():
            only = torch.zeros_like(features)
            only[..., sl] = features[..., sl]
            out[part] = (self.net(only) - base).norm(dim=-1)
        return out
