"""What the local LINE platform delivered, read as a person reads it: the texts and the
buttons of a message (as LINE's JSON). The scenario runner, the identity walkthrough, tests and
benchmarks look for words and buttons in the bot's messages through these."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def _nodes(tree: Any) -> Iterator[dict]:
    """Every mapping in a Flex container, depth first."""
    if isinstance(tree, list):
        for item in tree:
            yield from _nodes(item)
    elif isinstance(tree, dict):
        yield tree
        for value in tree.values():
            yield from _nodes(value)


def message_texts(message: dict) -> list[str]:
    """The text of a text message, a template's texts, every Flex text component; altText."""
    template = message.get("template", {})
    texts = [message.get("altText"), template.get("title"), template.get("text")]
    texts += [text for column in template.get("columns", [])
              for text in (column.get("title"), column.get("text"))]
    if message.get("type") in ("text", "textV2"):
        texts.append(message.get("text"))
    texts += [node.get("text") or "".join(span.get("text", "") for span in node.get("contents", []))
              for node in _nodes(message.get("contents")) if node.get("type") == "text"]
    return [text for text in dict.fromkeys(texts) if text]


def message_actions(message: dict) -> list[dict]:
    """The labelled actions a person can tap: quick replies, template actions, Flex buttons."""
    template = message.get("template", {})
    actions = [item.get("action", {}) for item in message.get("quickReply", {}).get("items", [])]
    actions += template.get("actions", [])
    for column in template.get("columns", []):  # carousel columns have actions, image ones one
        actions += column.get("actions", [column.get("action", {})])
    actions += [node.get("action", {}) for node in _nodes(message.get("contents"))
                if node.get("type") == "button"]
    return [action for action in actions if action.get("label")]
