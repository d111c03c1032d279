"""The uniformly random policy's evaluation: the 0 of every normalised score (`aggregate.normalise`)."""

from __future__ import annotations

import numpy as np

from keras_ip.envs.adapter import from_pettingzoo
from keras_ip.envs.registry import make_env
from keras_ip.estimator import mean_numeric_infos


def evaluate_random_policy(env: str, env_kwargs: dict, episodes: int, seed: int, action_seed: int = 0) -> dict:
    """What `Estimator.evaluate(episodes, seed=seed, metrics=True)` reports, for uniformly random actions.

    The episodes are the ones an agent's evaluation plays: episode e resets the environment with
    seed + e. Every agent acts (the benchmark's tasks have no fixed-policy groups; scripted
    opponents such as prey_predator's prey belong to the environment).

    Args:
      env: a registered environment name. env_kwargs: its keyword arguments.
      episodes: how many episodes. seed: the reset seed of the first.
      action_seed: seeds the random actions.
    Returns:
      {"team_return": mean over episodes of the summed rewards of all agents and steps, and
       every numeric info value at an episode's last step (e.g. "delay"), averaged}.
    """
    environment = make_env(env, **env_kwargs)
    adapter = from_pettingzoo(environment)
    rng = np.random.default_rng(action_seed)
    returns, final_infos = [], []
    try:
        for episode in range(episodes):
            adapter.reset(seed=seed + episode)
            total = 0.0
            while True:
                _, rewards, _, _, infos = adapter.step(adapter.random_actions(rng))
                total += float(np.sum(rewards))
                if adapter.episode_over:
                    break
            returns.append(total)
            final_infos.append(infos)
    finally:
        environment.close()
    return {"team_return": float(np.mean(returns)), **mean_numeric_infos(final_infos)}
