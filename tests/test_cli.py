"""The `keras-ip` command line that the README's demo command runs."""

import pytest

from keras_ip import cli


def test_demo_trains_and_reports_the_final_team_reward(capsys):
    assert cli.main(["demo", "--steps", "300", "--rows", "2", "--cols", "2", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert "step 300/300" in out
    assert "final team reward:" in out and "(optimum 0, random policy -2.0)" in out


def test_unknown_command_and_bad_propagation_are_rejected():
    with pytest.raises(SystemExit):
        cli.main(["train-everything"])
    with pytest.raises(SystemExit):
        cli.main(["demo", "--propagation", "magic"])
