"""Green phases and yellow transitions, on SUMO state strings worked by hand."""

import pytest

from keras_ip.envs.traffic.phases import green_phase_states, yellow_state


def test_green_phases_skip_yellow_all_red_and_duplicates():
    program = ["GGrrGGrr", "yyrryyrr", "rrrrrrrr", "rrGgrrGg", "rryyrryy", "GGrrGGrr"]
    assert green_phase_states(program) == ["GGrrGGrr", "rrGgrrGg"]


def test_yellow_only_where_green_turns_red():
    assert yellow_state("GGgrr", "rGsGr") == "yGyrr"
    assert yellow_state("GGrr", "GGrr") == "GGrr"


def test_yellow_names_mismatched_states():
    with pytest.raises(ValueError, match="Received: current='Gr', following='G'"):
        yellow_state("Gr", "G")
