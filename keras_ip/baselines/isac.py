"""Independent SAC: soft actor-critic with no neighbour information anywhere (issue 16's `isac`).

Every agent learns from its own observation and reward, with networks shared across agents:

  pi(a_i | o_i),   Q_1,2(o_i, a_i),   V(o_i),   V-bar (Polyak target of V)
  L_Q  = E[(Q_k(o_i, a_i) - (r_i + gamma (1 - done_i) V-bar(o'_i)))^2]           k = 1, 2
  L_V  = E[(V(o_i) - E_{a ~ pi}[min_k Q_k(o_i, a) - alpha log pi(a | o_i)])^2]
  L_pi = E_{a ~ pi}[alpha log pi(a | o_i) - min_k Q_k(o_i, a)]

(Haarnoja et al. 2018's SAC with a value network, applied to each agent independently, as the
paper's "independent" baselines are.) It is `IPAgent` on an edgeless graph (`graph="none"`):
the policy is the independent network (`propagation="none"`) and the critics have no state
hops (`critic_hops=0`), so with no edges every neighbour aggregate is zero and nothing an agent
learns or does depends on another agent's observation or action. The encoders still read
log(1 + degree) after o_i (the layers' degree input), which is 0 for every agent here.

How it differs from `propagation="none"` (the experiments' "independent"): that ablation keeps
IP's neighbourhood critics Q_i(s, a_i, a_N(i)), which see the neighbours' observations and
actions and pass each agent the gradient of its neighbours' actions' value; here the critics
see o_i and a_i only.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from keras_ip.agent import IPAgent
from keras_ip.config import IPConfig
from keras_ip.graphs.topology import Graph


@dataclasses.dataclass
class ISACConfig(IPConfig):
    """Hyperparameters of `ISACAgent`: `IPConfig`'s fields, with graph="none",
    propagation="none" and critic_hops=0 by default and the only values accepted for graph
    ("none" or a `Graph` without edges) and propagation."""

    graph: Any = dataclasses.field(default="none", metadata={"help": '"none" (no edges: independent learners)'})
    propagation: str = dataclasses.field(default="none", metadata={"help": '"none" (independent policies)'})
    critic_hops: int = dataclasses.field(default=0, metadata={"help": "rounds of state messages (none on no edges)"})

    def validate(self):
        super().validate()
        edgeless = self.graph == "none" or (isinstance(self.graph, Graph) and self.graph.num_edges == 0)
        if not edgeless or self.propagation != "none":
            raise ValueError('ISACAgent learns independently: it needs graph="none" (or a Graph without edges) and '
                             f'propagation="none". Received: graph={self.graph!r}, propagation={self.propagation!r}; '
                             "use IPAgent for agents that communicate.")


class ISACAgent(IPAgent):
    """Independent soft actor-critic (module docstring): IPAgent with no edges, no propagation
    and critics without neighbour messages.

    Example:
      >>> agent = ISACAgent("coordination", units=64, batch_size=256, learning_starts=256, seed=0)
      >>> agent.fit(steps=2000).evaluate(episodes=20, deterministic=False)

    Init args: as for `IPAgent`, with `graph="none"`, `propagation="none"` and `critic_hops=0`
      by default (`ISACConfig`). Any other graph, or any propagation but "none", raises
      ValueError: the agent would no longer be independent (use `IPAgent` for that).
    """

    config_class = ISACConfig

    def __init__(self, env, graph="none", k=None, every=1, propagation="none", hops=2, units=128, critic_hops=0,
                 encoder_layers=1, aggregation="mean", learning_rate=1e-3, gamma=0.95, tau=0.01, alpha=0.2,
                 target_entropy=None, batch_size=1024, buffer_size=1_000_000, learning_starts=1000, train_freq=8,
                 gradient_steps=8, gumbel_temperature=1.0, jit_compile=True, n_envs=1, collector="local", replay_dtype="float32",
                 replay_on_device=False, seed=None, env_kwargs=None, train_groups=None, fixed_policies=None,
                 strategy=None):
        arguments = {name: value for name, value in locals().items() if name not in ("self", "__class__")}
        super().__init__(**arguments)
