"""Names shared by the config, the CLI and the layers, defined once and importable without TensorFlow.

  PROPAGATIONS             the policy's propagation variants (`keras_ip.layers.PROPAGATION_LAYERS` keys)
  UNWEIGHTED_AGGREGATIONS  neighbour aggregations without learned weights (every layer and critic)
  AGGREGATIONS             all of them: the unweighted ones and the mean-field policy's "attention"
  COLLECTORS               who steps the environment copies (`keras_ip.collector.Collector`)
"""

PROPAGATIONS = ("mean_field", "loopy_bp", "state_only", "none")
UNWEIGHTED_AGGREGATIONS = ("sum", "mean")
AGGREGATIONS = UNWEIGHTED_AGGREGATIONS + ("attention",)
COLLECTORS = ("local", "ray")
