"""Round processes: where a job's round runs, and how the worker gets one.

Three processes take part, one module each:

- the worker (:mod:`wac.engine.worker`) is the **zygote's client**
  (:mod:`~wac.engine.rounds.zygote_client`): it starts the zygote and asks it for a round
  process, then talks to that process through a :class:`~wac.engine.rounds.zygote_client.RoundProcess`;
- the zygote (:mod:`~wac.engine.rounds.zygote_server`) is the **server**: a warm interpreter that
  forks one round process per request;
- the round process runs :mod:`~wac.engine.rounds.round` (one round of one job, reported back
  as one outcome), with :mod:`~wac.engine.rounds.host` as the SDK's host inside it.

What the worker tells a round is one :class:`~wac.engine.rounds.spec.RoundSpec`, used on both
sides. The worker's caches of live round processes are here too: parked sticky parents
(:mod:`~wac.engine.rounds.parked`), warm task processes (:mod:`~wac.engine.rounds.warm`), and a
zygote per environment (:mod:`~wac.engine.rounds.envzygotes`).
"""
