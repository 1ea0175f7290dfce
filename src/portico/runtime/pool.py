"""Environments of one function revision: warm ones waiting, busy ones working."""

from __future__ import annotations

from collections.abc import Iterator

from portico.runtime.config import FunctionConfig
from portico.runtime.environment import ExecutionEnvironment, State


class FunctionPool:
    """Idle environments are reused newest first, so the warmest one answers."""

    def __init__(self, config: FunctionConfig) -> None:
        self.config = config
        self.idle: list[ExecutionEnvironment] = []
        self.busy: set[ExecutionEnvironment] = set()
        self.starting: set[ExecutionEnvironment] = set()
        self.provisioned_target = 0

    def take_idle(self, *, waiting: bool = False) -> ExecutionEnvironment | None:
        """The newest idle environment, preferring one whose runtime already waits for work
        over one that has answered but not yet asked for more (with `waiting`, only the
        former); the dead are dropped."""
        finishing = None
        for index in range(len(self.idle) - 1, -1, -1):
            environment = self.idle[index]
            if environment.state is not State.IDLE:
                del self.idle[index]
            elif environment.accepting:
                del self.idle[index]
                self.busy.add(environment)
                return environment
            elif finishing is None:
                finishing = environment
        if finishing is not None and not waiting:
            self.idle.remove(finishing)
            self.busy.add(finishing)
            return finishing
        return None

    def give_back(self, environment: ExecutionEnvironment) -> None:
        self.busy.discard(environment)
        self.starting.discard(environment)
        if environment.state is State.IDLE:
            self.idle.append(environment)

    def forget(self, environment: ExecutionEnvironment) -> None:
        self.busy.discard(environment)
        self.starting.discard(environment)
        if environment in self.idle:
            self.idle.remove(environment)

    def all(self) -> Iterator[ExecutionEnvironment]:
        yield from self.idle
        yield from self.busy
        yield from self.starting

    @property
    def provisioned_alive(self) -> int:
        return sum(1 for env in self.all() if env.provisioned and env.state is not State.DEAD)

    def is_empty(self) -> bool:
        return not (self.idle or self.busy or self.starting)
