"""A region's day of home visits as a vehicle-routing problem with time windows.

Each team is a vehicle that leaves its base no earlier than its shift start and is back by its shift
end, with room for `capacity` visits; each stop is an optional client whose prize outweighs any
detour, so a day that cannot be fully served still gets a plan and the leftovers come back with a
reason. Times are minutes after local midnight at the edges and seconds inside (PyVRP wants
integers; whole minutes per leg would add up to real drift over a day); distances are metres.

`solve_vrplib` runs a published instance through `_search`, the same solver call `plan_day` makes,
so the benchmark gap measures the code that plans real days.
"""

import itertools
import math
import time as clock
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyvrp
from pyvrp import Client, Depot, Location, ProblemData, Solution, VehicleType

VISIT_HOURS = (8 * 60, 20 * 60)  # a visit starts and ends inside 08:00–20:00 local
EARTH_RADIUS_M = 6_371_000

WINDOW_UNREACHABLE = "window_unreachable"  # no team, even with an empty day, can be there in time
NO_TEAM_CAPACITY = "no_team_capacity"  # every team that could go has its day's visits full
NOT_SERVED_BY_SOLVER = "not_served_by_solver"  # a team had room, the plan found no slot for it
REASONS = (WINDOW_UNREACHABLE, NO_TEAM_CAPACITY, NOT_SERVED_BY_SOLVER)


@dataclass(frozen=True)
class Stop:
    """An approved visit to place: where, the borrower's window (minutes after midnight), how long."""

    id: str
    lat: float
    lon: float
    window_start: int
    window_end: int  # latest start of the visit
    service_minutes: int
    priority: int = 1


@dataclass(frozen=True)
class Team:
    """A team of two agents: starts and ends the day at its base."""

    id: str
    start_lat: float
    start_lon: float
    shift_start: int
    shift_end: int
    capacity: int  # visits a day


@dataclass(frozen=True)
class PlannedStop:
    stop_id: str
    arrive: int
    start: int
    leave: int


@dataclass(frozen=True)
class Route:
    team_id: str
    visits: list[PlannedStop]


@dataclass(frozen=True)
class Unplaced:
    stop_id: str
    reason: str  # one of REASONS


@dataclass(frozen=True)
class DayPlan:
    routes: list[Route]  # one per team, in the order given, empty when the team stays at base
    unassigned: list[Unplaced]
    travel_km: float
    travel_minutes: int
    solver_seconds: float


def plan_day(
    stops: Sequence[Stop],
    teams: Sequence[Team],
    *,
    speed_kmh: float,
    seconds: float,
    seed: int = 0,
) -> DayPlan:
    """Assign and order the day's stops with PyVRP within `seconds` of search."""
    started = clock.perf_counter()
    day = _Day(stops, teams, speed_kmh)
    routable = np.flatnonzero(day.reachable.any(axis=0))
    sequences: list[list[int]] = [[] for _ in teams]
    if routable.size:
        solution = _search(day.problem_data(routable), seconds=seconds, seed=seed)
        for route in solution.routes():
            # A route PyVRP could not make feasible in time is dropped, not shipped: its stops
            # come back unplaced and the day still has a plan that holds.
            if route.is_feasible():
                sequences[route.vehicle_type()] = [int(routable[k]) for k in _clients(route)]
    return day.plan(sequences, clock.perf_counter() - started)


def nearest_neighbour(stops: Sequence[Stop], teams: Sequence[Team], *, speed_kmh: float) -> DayPlan:
    """The baseline: team by team, always on to the nearest stop that still fits the day."""
    started = clock.perf_counter()
    day = _Day(stops, teams, speed_kmh)
    free = day.reachable.any(axis=0)
    sequences: list[list[int]] = []
    for t, team in enumerate(teams):
        sequence: list[int] = []
        here, now = day.depot(t), team.shift_start * 60
        while len(sequence) < team.capacity:
            candidates = np.flatnonzero(free & day.reachable[t])
            to = day.location(candidates)
            begin = np.maximum(now + day.duration[here, to], day.earliest[candidates])
            back = begin + day.service[candidates] + day.duration[to, day.depot(t)]
            fits = (begin <= day.latest[candidates]) & (back <= team.shift_end * 60)
            if not fits.any():
                break
            k = np.flatnonzero(fits)[np.argmin(day.distance[here, to[fits]])]
            sequence.append(int(candidates[k]))
            free[candidates[k]] = False
            here, now = int(to[k]), int(begin[k] + day.service[candidates[k]])
        sequences.append(sequence)
    return day.plan(sequences, clock.perf_counter() - started)


def solve_vrplib(path: str, *, seconds: float, seed: int = 0) -> tuple[float, list[list[int]]]:
    """Cost and routes (VRPLIB client numbers) for a published instance, DIMACS convention.

    Gehring–Homberger best-known costs are sums of distances truncated to one decimal: scaled by
    10 and truncated, the instance is integral and the cost is exact after dividing by 10. The cost
    is infinite when no feasible solution was found in time.
    """
    data = pyvrp.read(path, round_func="dimacs")
    solution = _search(data, seconds=seconds, seed=seed)
    routes = [[data.client(k).location for k in _clients(route)] for route in solution.routes()]
    if not solution.is_feasible():
        return math.inf, routes
    cost = pyvrp.CostEvaluator([0] * data.num_load_dimensions, 0, 0).cost(solution)
    return cost / 10, routes


class _Deadline:
    """Stops the search `seconds` after it was made, so the budget is wall time: PyVRP's MaxRuntime
    starts its clock only after the initial local search (about 0.25 s on 1,000 clients)."""

    def __init__(self, seconds: float):
        self.at = clock.perf_counter() + seconds

    def __call__(self, best_cost: int) -> bool:
        return clock.perf_counter() >= self.at


def _search(data: ProblemData, *, seconds: float, seed: int) -> Solution:
    """The one place PyVRP is asked to solve: day plans and the VRPLIB benchmark both come here."""
    stop = _Deadline(seconds)
    return pyvrp.solve(data, stop=stop, seed=seed, collect_stats=False, display=False).best


class _Day:
    """One day's numbers: locations are the teams' bases (depot t) then the stops (T + i)."""

    def __init__(self, stops: Sequence[Stop], teams: Sequence[Team], speed_kmh: float):
        _check(stops, teams, speed_kmh)
        self.stops, self.teams = list(stops), list(teams)
        lat = np.radians([t.start_lat for t in teams] + [s.lat for s in stops])
        lon = np.radians([t.start_lon for t in teams] + [s.lon for s in stops])
        self.distance = _haversine_m(lat, lon)
        self.duration = np.rint(self.distance / (speed_kmh / 3.6)).astype(np.int64)
        self.service = np.array([s.service_minutes * 60 for s in stops], np.int64)
        self.earliest = np.array(
            [max(s.window_start, VISIT_HOURS[0]) * 60 for s in stops], np.int64
        )
        self.latest = np.array(
            [min(s.window_end, VISIT_HOURS[1] - s.service_minutes) * 60 for s in stops], np.int64
        )
        self.reachable = self._reachable()

    def depot(self, t: int) -> int:
        return t

    def location(self, i):
        return len(self.teams) + i

    def _reachable(self) -> np.ndarray:
        """teams × stops: could this team visit this stop on a day with nothing else in it?"""
        out = np.zeros((len(self.teams), len(self.stops)), bool)
        at = self.location(np.arange(len(self.stops)))
        for t, team in enumerate(self.teams):
            begin = np.maximum(team.shift_start * 60 + self.duration[t, at], self.earliest)
            back = begin + self.service + self.duration[at, t]
            out[t] = (team.capacity > 0) & (begin <= self.latest) & (back <= team.shift_end * 60)
        return out

    def problem_data(self, routable: np.ndarray) -> ProblemData:
        """PyVRP's data for the stops some team can reach: one vehicle type per team."""
        keep = np.concatenate([np.arange(len(self.teams)), self.location(routable)])
        distance = np.ascontiguousarray(self.distance[np.ix_(keep, keep)])
        duration = np.ascontiguousarray(self.duration[np.ix_(keep, keep)])
        # Worth more than any detour it can cost (at most twice the longest leg), so the solver
        # leaves a stop out only when no route can take it; priority multiplies it.
        prize = 2 * int(distance.max()) + 1
        locations = [Location(x=t.start_lon, y=t.start_lat) for t in self.teams] + [
            Location(x=self.stops[i].lon, y=self.stops[i].lat) for i in routable
        ]
        clients = [
            Client(
                location=len(self.teams) + k,
                delivery=[1],
                service_duration=int(self.service[i]),
                tw_early=int(self.earliest[i]),
                tw_late=int(self.latest[i]),
                prize=prize * self.stops[i].priority,
                required=False,
            )
            for k, i in enumerate(routable)
        ]
        depots = [Depot(location=t) for t in range(len(self.teams))]
        vehicles = [
            VehicleType(
                num_available=1,
                capacity=[team.capacity],
                start_depot=t,
                end_depot=t,
                tw_early=team.shift_start * 60,
                tw_late=team.shift_end * 60,
                name=team.id,
            )
            for t, team in enumerate(self.teams)
        ]
        return ProblemData(locations, clients, depots, vehicles, [distance], [duration], [], [])

    def plan(self, sequences: list[list[int]], seconds: float) -> DayPlan:
        """Times each team's sequence (leaving base just in time for its first visit) and gives
        every stop left out its reason."""
        routes, metres, travel = [], 0, 0
        for t, (team, sequence) in enumerate(zip(self.teams, sequences, strict=True)):
            visits, legs = self._schedule(t, sequence)
            routes.append(Route(team.id, visits))
            metres += sum(int(self.distance[a, b]) for a, b in legs)
            travel += sum(int(self.duration[a, b]) for a, b in legs)
        served = {i for sequence in sequences for i in sequence}
        full = np.array(
            [len(s) >= team.capacity for team, s in zip(self.teams, sequences, strict=True)], bool
        )
        unassigned = []
        for i, stop in enumerate(self.stops):
            if i in served:
                continue
            able = self.reachable[:, i]
            if not able.any():
                reason = WINDOW_UNREACHABLE
            elif full[able].all():
                reason = NO_TEAM_CAPACITY
            else:
                reason = NOT_SERVED_BY_SOLVER
            unassigned.append(Unplaced(stop.id, reason))
        return DayPlan(
            routes=routes,
            unassigned=unassigned,
            travel_km=round(metres / 1000, 3),
            travel_minutes=round(travel / 60),
            solver_seconds=round(seconds, 3),
        )

    def _schedule(self, t: int, sequence: list[int]) -> tuple[list[PlannedStop], list]:
        """Earliest start at each stop; times shown rounded up to the minute, which keeps every
        start inside its window because windows are whole minutes."""
        team = self.teams[t]
        path = [self.depot(t), *(self.location(i) for i in sequence), self.depot(t)]
        legs = list(itertools.pairwise(path))
        visits, now = [], team.shift_start * 60
        for i, (a, b) in zip(sequence, legs, strict=False):
            arrive = now + int(self.duration[a, b])
            start = max(arrive, int(self.earliest[i]))
            if start > self.latest[i]:
                raise AssertionError(f"team {team.id} reaches stop {self.stops[i].id} too late")
            now = start + int(self.service[i])
            visits.append(
                PlannedStop(self.stops[i].id, _minute(arrive), _minute(start), _minute(now))
            )
        if len(sequence) > team.capacity or now + self.duration[legs[-1]] > team.shift_end * 60:
            raise AssertionError(f"team {team.id}'s route breaks its capacity or shift")
        if visits:
            # Leave base just in time for the first visit instead of waiting on the doorstep.
            first = visits[0]
            visits[0] = PlannedStop(first.stop_id, first.start, first.start, first.leave)
        return visits, legs


def _clients(route: pyvrp.Route) -> list[int]:
    return [activity.idx for activity in route if activity.is_client()]


def _minute(seconds: int) -> int:
    return -(-seconds // 60)


def _haversine_m(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    dlat = lat[:, None] - lat[None, :]
    dlon = lon[:, None] - lon[None, :]
    a = np.sin(dlat / 2) ** 2 + np.cos(lat[:, None]) * np.cos(lat[None, :]) * np.sin(dlon / 2) ** 2
    return np.rint(2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0, 1)))).astype(np.int64)


def _check(stops: Sequence[Stop], teams: Sequence[Team], speed_kmh: float) -> None:
    if speed_kmh <= 0:
        raise ValueError("speed_kmh must be positive")
    for kind, ids in (("stop", [s.id for s in stops]), ("team", [t.id for t in teams])):
        if len(set(ids)) != len(ids):
            raise ValueError(f"{kind} ids must be unique")
    for s in stops:
        if s.window_start > s.window_end or s.service_minutes < 0 or s.priority < 1:
            raise ValueError(f"stop {s.id}: window, service or priority out of range")
    for t in teams:
        if t.shift_start > t.shift_end or t.capacity < 0:
            raise ValueError(f"team {t.id}: shift or capacity out of range")
