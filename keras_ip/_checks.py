"""Argument checks shared by every module, with errors that name the argument and value."""

import numpy as np


def is_int(value) -> bool:
    """True for Python and numpy integers, False for bools and everything else."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def check_int(name: str, value, minimum: int = 1) -> int:
    """Returns `value` as an int if it is an integer >= minimum; raises ValueError naming it."""
    if not is_int(value) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}. Received: {name}={value!r}")
    return int(value)


def check_bool(name: str, value) -> bool:
    """Returns `value` if it is True or False (numpy bools included); raises ValueError naming it."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False. Received: {name}={value!r}")
    return bool(value)
