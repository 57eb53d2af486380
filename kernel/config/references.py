"""Cross-section checks: every name one section uses must be defined in another."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kernel.config.targets import TargetSyntaxError, parse_target, skills_named

if TYPE_CHECKING:
    from kernel.config.settings import Settings


def check_references(s: Settings) -> None:
    problems: list[str] = []
    skills = s.skill_names()
    queues = {q.name for q in s.queues}
    departments = {d.name for d in s.tickets.departments}

    def unknown(path: str, kind: str, name: str, known: set[str]) -> None:
        if name not in known:
            problems.append(f"{path}: unknown {kind} {name!r} (known: {', '.join(sorted(known))})")

    _duplicates(problems, "skills", [x.name for x in s.skills])
    _duplicates(problems, "queues", [q.name for q in s.queues])
    for i, q in enumerate(s.queues):
        unknown(f"queues[{i}].skill", "skill", q.skill, skills)
        if q.overflow.target_queue:
            unknown(f"queues[{i}].overflow.target_queue", "queue", q.overflow.target_queue, queues)
        for j, step in enumerate(q.steps):
            path = f"queues[{i}].steps[{j}].target"
            try:
                target = parse_target(step.target)
            except TargetSyntaxError as exc:
                problems.append(f"{path}: {exc}")
                continue
            for name in sorted(skills_named(target)):
                unknown(path, "skill", name, skills)
    if missing := {"A", "B", "C"} - set(s.tiers):
        problems.append(f"tiers: missing tier(s) {', '.join(sorted(missing))}")
    categories = {c.name for c in s.tickets.categories}
    for i, name in enumerate(s.routing.emergency_queues):
        unknown(f"routing.emergency_queues[{i}]", "queue", name, queues)
    r = s.routing
    cap = s.ageing_cap()
    if r.ageing.enabled and cap >= r.emergency_priority:
        path = "routing.ageing.max_priority"
        if r.ageing.max_priority is None:
            path += " (None: the highest tier's priority)"
        problems.append(
            f"{path}: {cap} must stay below routing.emergency_priority "
            f"({r.emergency_priority}): an aged call must never reach an emergency"
        )
    unknown("routing.callback.ticket_category", "category", r.callback.ticket_category, categories)
    voicemail = r.voicemail_ticket_category
    unknown("routing.voicemail_ticket_category", "category", voicemail, categories)
    for i, c in enumerate(s.tickets.categories):
        unknown(f"tickets.categories[{i}].department", "department", c.department, departments)
    for i, name in enumerate(s.recording.queues):
        unknown(f"recording.queues[{i}]", "queue", name, queues)
    # An IVR "skill" is where the caller waits: a queue (hold-<name> on Asterisk).
    known = {
        "node": set(s.ivr.nodes),
        "skill": queues,
        "prompt": set(s.ivr.prompts),
        "ticket_category": categories,
    }
    for path, kind, name in s.ivr.references():
        unknown(path, kind, name, known[kind])
    for node_id, node in s.ivr.nodes.items():
        ref: str = getattr(node, "identify", "")
        kind = s.ivr.nodes[ref].type if ref in s.ivr.nodes else "identify"
        if node.type == "balance" and kind != "identify":
            problems.append(
                f"ivr.nodes.{node_id}.identify: {ref!r} is a {kind} node, not an identify node"
            )
    if s.privacy.ivr_pin:  # the balance node asks for the PIN with these prompts
        for name in ("pin_enter", "pin_wrong"):
            unknown("privacy.ivr_pin", "prompt", name, known["prompt"])
    if problems:
        raise ValueError("\n".join(problems))


def _duplicates(problems: list[str], path: str, names: list[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            problems.append(f"{path}: {name!r} is defined twice")
        seen.add(name)
