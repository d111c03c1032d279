"""Signal phases as SUMO state strings: one character per controlled link.

'G'/'g' green (priority / yielding), 'y' yellow, 'r' red, 's' stop-then-go, 'o'/'O' off.
The agents choose among a signal's green phases, read from its program as sumo-rl does;
switching from green phase a to b shows `yellow_state(a, b)` first.
"""

from __future__ import annotations

GREEN = "Gg"
RED = "rs"


def green_phase_states(states) -> list:
    """The green phases of a signal program, in program order.

    Args:
      states: the program's phase state strings.
    Returns:
      the states without yellow ('y') that give green to at least one link. Duplicates
      are kept once.

    Example:
      >>> green_phase_states(["GGrr", "yyrr", "rrGG", "rryy"])
      ['GGrr', 'rrGG']
    """
    greens = []
    for state in states:
        if "y" not in state and any(c in GREEN for c in state) and state not in greens:
            greens.append(state)
    return greens


def yellow_state(current: str, following: str) -> str:
    """The transition from green phase `current` to `following`: links green now and red
    next turn yellow, every other link keeps its current signal.

    Example:
      >>> yellow_state("GGrr", "rGGr")
      'yGrr'
    """
    if len(current) != len(following):
        raise ValueError(f"Phase states must control the same links. Received: current={current!r}, "
                         f"following={following!r}")
    return "".join("y" if a in GREEN and b in RED else a for a, b in zip(current, following))
