"""doorstep bench routing: a city's day of visits against nearest-neighbour, or a VRPLIB instance.

`--visits N --teams T`: a synthetic Shanghai-sized day (about 40 km across, visits clustered in
districts, some with a confirmed morning or afternoon window), planned by `plan_day` and by the
nearest-neighbour baseline. Travel is compared on the same visits: when the solver serves more
than the baseline, it plans the baseline's visits alone as well and the saving is measured there.

`--instance FILE.vrp`: solves a VRPLIB instance through the same solver call and compares the cost
with the best known one in the sibling `.sol` file.
"""

import time as clock
from pathlib import Path

import numpy as np
import vrplib

from doorstep.visits.engine.routing import (
    DayPlan,
    Stop,
    Team,
    nearest_neighbour,
    plan_day,
    solve_vrplib,
)

CENTRE = (31.23, 121.47)  # People's Square, Shanghai
KM_PER_DEGREE_LAT = 111.2
SPEED_KMH = 25.0
CONFIRMED_WINDOWS = ((9 * 60, 12 * 60), (14 * 60, 18 * 60))
VISIT_DAY = (8 * 60, 20 * 60)
SHIFT = (8 * 60 + 30, 18 * 60 + 30)


def add_arguments(parser) -> None:
    parser.add_argument("--visits", type=int, default=300)
    parser.add_argument("--teams", type=int, default=30)
    parser.add_argument("--instance", help="a VRPLIB .vrp file; its .sol sibling holds the BKS")
    parser.add_argument(
        "--seconds",
        type=float,
        help="search time (default: 8 for a day, which keeps planning under 10 s; 60 for --instance)",
    )
    parser.add_argument("--seed", type=int, default=0)


def run(options: dict, out) -> dict:
    if options.get("instance"):
        return _instance(options["instance"], options.get("seconds") or 60.0, options["seed"], out)
    return _day(options["visits"], options["teams"], options.get("seconds") or 8.0,
                options["seed"], out)  # fmt: skip


def synthetic_day(visits: int, teams: int, seed: int) -> tuple[list[Stop], list[Team]]:
    """Visits around a dozen district centres with a fifth scattered anywhere; team bases spread
    over the city; 30% of visits confirmed for a morning or afternoon window."""
    rng = np.random.default_rng(seed)
    half_km = 20.0
    districts = rng.uniform(-0.8 * half_km, 0.8 * half_km, (12, 2))
    home = districts[rng.integers(0, len(districts), visits)] + rng.normal(0, 2.0, (visits, 2))
    scattered = rng.random(visits) < 0.2
    home[scattered] = rng.uniform(-half_km, half_km, (int(scattered.sum()), 2))
    home = np.clip(home, -half_km, half_km)
    confirmed = rng.random(visits) < 0.3
    which = rng.integers(0, len(CONFIRMED_WINDOWS), visits)
    service = rng.integers(30, 46, visits)
    priority = np.where(rng.random(visits) < 0.1, 2, 1)
    stops = [
        Stop(
            id=f"V{i:04d}",
            lat=_lat(home[i, 1]),
            lon=_lon(home[i, 0]),
            window_start=CONFIRMED_WINDOWS[which[i]][0] if confirmed[i] else VISIT_DAY[0],
            window_end=CONFIRMED_WINDOWS[which[i]][1] if confirmed[i] else VISIT_DAY[1],
            service_minutes=int(service[i]),
            priority=int(priority[i]),
        )
        for i in range(visits)
    ]
    base = rng.uniform(-0.9 * half_km, 0.9 * half_km, (teams, 2))
    capacity = rng.integers(10, 13, teams)
    crews = [
        Team(
            id=f"T{t:02d}",
            start_lat=_lat(base[t, 1]),
            start_lon=_lon(base[t, 0]),
            shift_start=SHIFT[0],
            shift_end=SHIFT[1],
            capacity=int(capacity[t]),
        )
        for t in range(teams)
    ]
    return stops, crews


def _day(visits: int, teams: int, seconds: float, seed: int, out) -> dict:
    stops, crews = synthetic_day(visits, teams, seed)
    out(f"planning {visits} visits for {teams} teams ({seconds:g} s of search) …")
    started = clock.perf_counter()
    plan = plan_day(stops, crews, speed_kmh=SPEED_KMH, seconds=seconds, seed=seed)
    planning = clock.perf_counter() - started
    baseline = nearest_neighbour(stops, crews, speed_kmh=SPEED_KMH)
    served, baseline_served = _served(plan), _served(baseline)
    figures = {
        "visits": visits,
        "teams": teams,
        "capacity": sum(t.capacity for t in crews),
        "seconds": round(planning, 3),
        "search_seconds": seconds,
        "solver": _figures(plan),
        "nearest_neighbour": _figures(baseline),
    }
    same = plan
    if served != baseline_served:
        out("the two plans serve different visits; planning the baseline's visits alone …")
        subset = [s for s in stops if s.id in baseline_served]
        same = plan_day(subset, crews, speed_kmh=SPEED_KMH, seconds=seconds, seed=seed)
    # A saving is claimed only on exactly the visits the baseline served.
    like_for_like = _served(same) == baseline_served and baseline.travel_km > 0
    figures["same_visits"] = {
        "visits": len(baseline_served),
        "solver_served": len(_served(same)),
        "solver_km": same.travel_km,
        "nearest_neighbour_km": baseline.travel_km,
        "saving": round(1 - same.travel_km / baseline.travel_km, 4) if like_for_like else None,
    }
    return figures


def _instance(path: str, seconds: float, seed: int, out) -> dict:
    out(f"solving {path} ({seconds:g} s) …")
    started = clock.perf_counter()
    cost, routes = solve_vrplib(path, seconds=seconds, seed=seed)
    elapsed = clock.perf_counter() - started
    bks = best_known(path)
    feasible = cost != float("inf")
    return {
        "instance": Path(path).stem,
        "cost": round(cost, 1) if feasible else None,
        "bks": bks,
        "gap": round(cost / bks - 1, 4) if feasible and bks else None,
        "routes": len(routes),
        "seconds": round(elapsed, 3),
        "seed": seed,
    }


def best_known(path: str) -> float | None:
    """The `Cost` line of the instance's `.sol` sibling, if there is one."""
    solution = Path(path).with_suffix(".sol")
    if not solution.exists():
        return None
    return float(vrplib.read_solution(str(solution))["cost"])


def _served(plan: DayPlan) -> set[str]:
    return {v.stop_id for route in plan.routes for v in route.visits}


def _figures(plan: DayPlan) -> dict:
    served = sum(len(r.visits) for r in plan.routes)
    reasons: dict[str, int] = {}
    for u in plan.unassigned:
        reasons[u.reason] = reasons.get(u.reason, 0) + 1
    return {
        "served": served,
        "unassigned": len(plan.unassigned),
        "unassigned_by_reason": reasons,
        "travel_km": plan.travel_km,
        "travel_minutes": plan.travel_minutes,
        "km_per_visit": round(plan.travel_km / served, 3) if served else None,
        "teams_used": sum(1 for r in plan.routes if r.visits),
        "seconds": plan.solver_seconds,
    }


def _lat(north_km: float) -> float:
    return CENTRE[0] + north_km / KM_PER_DEGREE_LAT


def _lon(east_km: float) -> float:
    return CENTRE[1] + east_km / (KM_PER_DEGREE_LAT * np.cos(np.radians(CENTRE[0])))
