"""The IVR menu tree as configured; the interpreter lives in ivr/.

Nodes are a discriminated union on `type`. The IVR feature owns the node kinds;
the loader only checks that every reference (node, skill, prompt) resolves.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from hotline.config.common import Label, Name, Strict


class MenuNode(Strict):
    type: Literal["menu"]
    prompt: Name
    options: dict[str, Name] = Field(min_length=1)
    timeout_seconds: float = Field(5, gt=0)
    retries: int = Field(2, ge=0)
    invalid_prompt: Name | None = None


class TransferNode(Strict):
    type: Literal["transfer"]
    skill: Name
    prompt: Name | None = None


class PlayNode(Strict):
    type: Literal["play"]
    prompt: Name
    next: Name | None = None


IvrNode = Annotated[MenuNode | TransferNode | PlayNode, Field(discriminator="type")]


def ivr_node_types() -> set[str]:
    return {"menu", "transfer", "play"}


class IvrSettings(Strict):
    entry: Name
    operator_skill: Name = "general"
    prompts: dict[Name, Label]
    nodes: dict[Name, IvrNode] = Field(min_length=1)
    # Where rendered prompt sound files live (one sub-folder per language).
    sounds_dir: str = "var/sounds"

    def references(self) -> list[tuple[str, str, str]]:
        """(key path, kind, name) for every reference a node makes, for validation."""
        refs: list[tuple[str, str, str]] = [("ivr.entry", "node", self.entry)]
        refs.append(("ivr.operator_skill", "skill", self.operator_skill))
        for node_id, node in self.nodes.items():
            base = f"ivr.nodes.{node_id}"
            if isinstance(node, MenuNode):
                refs.append((f"{base}.prompt", "prompt", node.prompt))
                if node.invalid_prompt:
                    refs.append((f"{base}.invalid_prompt", "prompt", node.invalid_prompt))
                for key, target in node.options.items():
                    refs.append((f"{base}.options.{key}", "node", target))
            elif isinstance(node, TransferNode):
                refs.append((f"{base}.skill", "skill", node.skill))
                if node.prompt:
                    refs.append((f"{base}.prompt", "prompt", node.prompt))
            else:
                refs.append((f"{base}.prompt", "prompt", node.prompt))
                if node.next:
                    refs.append((f"{base}.next", "node", node.next))
        return refs
