"""PropagationBase: the contract a propagation variant must fulfil."""

import pytest

from keras_ip.layers import PropagationBase


def test_a_variant_without_propagate_cannot_be_instantiated():
    class NoUpdate(PropagationBase):
        pass

    with pytest.raises(TypeError, match="abstract method.*propagate"):
        NoUpdate(units=4)
