"""Dense layers with a leading axis of kernels: one per agent group (`GroupedDense`) or one per
independent copy (`StackedDense`, the twin critics), and the initialiser that draws each
[in, out] slice of such a stacked kernel on its own (`per_slice`).
"""

from __future__ import annotations

import tensorflow as tf

from keras_ip._checks import check_int


def fresh_initializer(initializer):
    """A new instance of the same initializer (same config)."""
    return tf.keras.initializers.get(tf.keras.initializers.serialize(initializer))


def per_slice(initializer):
    """Initialises a stacked [S, in, out] kernel (S groups or copies) as S independent [in, out]
    draws. Given the 3-D shape, Keras' fan-based initialisers would count S into fan-in and
    fan-out (glorot: variance 2 / (S in + S out) instead of 2 / (in + out))."""
    initializer = tf.keras.initializers.get(initializer)

    def initialize(shape, dtype=None):
        return tf.stack([fresh_initializer(initializer)(shape[1:], dtype) for _ in range(shape[0])])

    return initialize


@tf.keras.utils.register_keras_serializable(package="keras_ip")
class GroupedDense(tf.keras.layers.Layer):
    """A Dense layer per agent group: row i is transformed by the kernel of group_ids[i].

    How heterogeneous agents (paper appendix E.2: "different nonlinear functions to
    extract the features from heterogeneous observations") share one graph network: only
    the first layer is per group, everything after it is shared. Cost: num_groups matmuls.

    Init args:
      units: output width. num_groups: G. activation: as for Dense.
    Call args:
      inputs: float32 [nodes, d]. group_ids: int32 [nodes] in [0, G).
    Call returns:
      float32 [nodes, units].
    """

    def __init__(self, units: int, num_groups: int, activation=None, **kwargs):
        super().__init__(**kwargs)
        self.units = check_int("units", units)
        self.num_groups = check_int("num_groups", num_groups)
        self.activation = tf.keras.activations.get(activation)

    def build(self, input_shape):
        d = int(input_shape[-1])
        self.kernel = self.add_weight("kernel", [self.num_groups, d, self.units],
                                      initializer=per_slice("glorot_uniform"))  # each group's [d, units] a glorot draw
        self.bias = self.add_weight("bias", [self.num_groups, self.units], initializer="zeros")

    def call(self, inputs, group_ids):
        every_group = tf.einsum("nd,gdu->gnu", inputs, self.kernel) + self.bias[:, None, :]  # [G, nodes, units]
        own = tf.one_hot(group_ids, self.num_groups, dtype=inputs.dtype)                     # [nodes, G]
        return self.activation(tf.einsum("ng,gnu->nu", own, every_group))

    def get_config(self):
        return dict(super().get_config(), units=self.units, num_groups=self.num_groups,
                    activation=tf.keras.activations.serialize(self.activation))


def stacked_matmul(inputs, kernel, frozen: bool = False):
    """[nodes, in] (shared by all copies) or [nodes, copies, in] times kernel [copies, in, out] -> [nodes, copies, out].

    frozen=True reads the kernel without gradient (the inputs keep theirs).
    """
    kernel = tf.stop_gradient(kernel) if frozen else kernel
    equation = "ni,cio->nco" if inputs.shape.rank == 2 else "nci,cio->nco"
    return tf.einsum(equation, inputs, kernel)


@tf.keras.utils.register_keras_serializable(package="keras_ip")
class StackedDense(tf.keras.layers.Layer):
    """`copies` independent Dense layers applied as one batched matmul.

    Init args:
      units: output width. copies: number of independent layers. activation, use_bias: as for Dense.
    Call args:
      inputs: float32 [nodes, in] (the same input for every copy) or [nodes, copies, in].
      frozen: read the weights without gradient.
    Call returns:
      float32 [nodes, copies, units].
    """

    def __init__(self, units: int, copies: int = 1, activation=None, use_bias: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.units = check_int("units", units)
        self.copies = check_int("copies", copies)
        self.activation = tf.keras.activations.get(activation)
        self.use_bias = bool(use_bias)

    def build(self, input_shape):
        self.kernel = self.add_weight("kernel", [self.copies, int(input_shape[-1]), self.units],
                                      initializer=per_slice("glorot_uniform"))
        self.bias = self.add_weight("bias", [self.copies, self.units], initializer="zeros") if self.use_bias else None
        super().build(input_shape)

    def call(self, inputs, frozen: bool = False):
        bias = 0.0 if self.bias is None else (tf.stop_gradient(self.bias) if frozen else self.bias)
        return self.activation(self.linear(inputs, frozen=frozen) + bias)

    def linear(self, inputs, start: int = 0, frozen: bool = False):
        """inputs times rows [start, start + in) of the kernel, no bias: [nodes, copies, units].

        Lets a caller split a concatenated input [x, y] into x @ W_x + y @ W_y and reuse x @ W_x
        (the bias, `self.bias`, is the caller's to add once).
        """
        width = int(inputs.shape[-1])
        return stacked_matmul(inputs, self.kernel[:, start:start + width], frozen)

    def get_config(self):
        return dict(super().get_config(), units=self.units, copies=self.copies, use_bias=self.use_bias,
                    activation=tf.keras.activations.serialize(self.activation))
