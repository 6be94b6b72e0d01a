"""The ControlNets kept on a loaded model between requests, under a budget.

An artist switching between canny, depth and pose ControlNets should not pay
a load each time, but every kept ControlNet holds device memory the model
cache does not see (it measured the model when it loaded). So at most
MAX_KEPT are kept, and together no more than half of what the device could
give them (its free memory plus what they already hold); the least recently
used go first, never one the request at hand uses. They go with the model
when it unloads: they live on its LoadedModel.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from artstudio.engine.devices import empty_device_caches, free_memory_bytes
from artstudio.engine.model_cache import estimate_size

MAX_KEPT = 4
SHARE_OF_FREE = 0.5  # the rest stays for the generation's own activations


@dataclass(frozen=True)
class Budget:
    count: int
    bytes: int


def budget_for(model) -> Budget:
    held = sum(estimate_size(net) for net in model.controlnets.values())
    device = "cpu" if model.offload else str(model.device.torch_device)
    return Budget(MAX_KEPT, int((free_memory_bytes(device) + held) * SHARE_OF_FREE))


def _evict(model, budget: Budget, keep: set[str]) -> list[Any]:
    """Drop least recently used ControlNets (dict order) outside `keep` until
    the rest fits `budget`; the dropped ones."""
    dropped = []
    sizes = {key: estimate_size(net) for key, net in model.controlnets.items()}

    def over() -> bool:
        return len(model.controlnets) > max(budget.count, len(keep)) or \
            sum(sizes[k] for k in model.controlnets) > budget.bytes

    for key in list(model.controlnets):
        if not over():
            break
        if key not in keep:
            dropped.append(model.controlnets.pop(key))
    return dropped


def _nets_of(controlnet) -> list[Any]:
    return list(getattr(controlnet, "nets", None) or [controlnet])


def kept(model, key: str, load: Callable[[], Any], in_use: Iterable[str]) -> Any:
    """The ControlNet `key` on `model`: the kept one (now the most recently
    used), else `load()`ed and kept, others let go to stay within the budget."""
    if key in model.controlnets:
        model.controlnets[key] = model.controlnets.pop(key)
        return model.controlnets[key]
    net = load()
    model.controlnets[key] = net
    dropped = _evict(model, budget_for(model), set(in_use) | {key})
    if dropped:
        # the ControlNet pipelines built over the model still hold them: rebuilt when asked
        gone = {id(n) for n in dropped}
        for name, pipe in list(model.derived.items()):
            if name.startswith("control-") and any(
                    id(n) in gone for n in _nets_of(getattr(pipe, "controlnet", None))):
                del model.derived[name]
        dropped.clear()
        empty_device_caches()
    return net
