"""The day's routing engine: plans that hold (windows, visit hours, shifts, capacity), reasons for
what is left out, the nearest-neighbour baseline, and the VRPLIB path through the same solver."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from doorstep.visits.engine.routing import (
    NO_TEAM_CAPACITY,
    NOT_SERVED_BY_SOLVER,
    REASONS,
    WINDOW_UNREACHABLE,
    PlannedStop,
    Stop,
    Team,
    Unplaced,
    nearest_neighbour,
    plan_day,
    solve_vrplib,
)

ORIGIN = (31.23, 121.47)
SPEED = 25.0
SHIFT = (510, 1110)  # 08:30–18:30


def at(north_km: float, east_km: float = 0.0) -> tuple[float, float]:
    """A point north (and east) of the origin; due north, haversine gives the distance back exactly."""
    lat = ORIGIN[0] + math.degrees(north_km / 6371)
    lon = ORIGIN[1] + math.degrees(east_km / (6371 * math.cos(math.radians(ORIGIN[0]))))
    return lat, lon


def stop(id, north_km, east_km=0.0, window=(480, 1200), service=30, priority=1) -> Stop:
    return Stop(id, *at(north_km, east_km), window[0], window[1], service, priority)


def team(id, north_km=0.0, east_km=0.0, capacity=10, shift=SHIFT) -> Team:
    return Team(id, *at(north_km, east_km), shift[0], shift[1], capacity)


def city(seed: int, visits: int, teams: int, capacity=(8, 11)) -> tuple[list[Stop], list[Team]]:
    """About 20 km across, clustered around four centres, a third with a narrow window."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-7, 7, (4, 2))
    spot = centres[rng.integers(0, 4, visits)] + rng.normal(0, 1.5, (visits, 2))
    windows = [(480, 1200), (540, 720), (840, 1080)]
    kind = rng.choice(3, visits, p=[0.66, 0.17, 0.17])
    stops = [
        stop(f"S{i}", spot[i, 0], spot[i, 1], windows[kind[i]], int(rng.integers(30, 46)))
        for i in range(visits)
    ]
    base = rng.uniform(-8, 8, (teams, 2))
    crews = [
        team(f"T{t}", base[t, 0], base[t, 1], capacity=int(rng.integers(*capacity)))
        for t in range(teams)
    ]
    return stops, crews


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    (la1, lo1), (la2, lo2) = (map(math.radians, p) for p in (a, b))
    h = (
        math.sin((la2 - la1) / 2) ** 2
        + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    )
    return 2 * 6371 * math.asin(math.sqrt(h))


def assert_holds(plan, stops, teams) -> None:
    """Every rule of a day plan, checked from the inputs with an independent travel model."""
    by_id = {s.id: s for s in stops}
    placed = [v.stop_id for route in plan.routes for v in route.visits]
    left = [u.stop_id for u in plan.unassigned]
    assert sorted(placed + left) == sorted(by_id)  # each stop exactly once
    assert {u.reason for u in plan.unassigned} <= set(REASONS)
    assert [r.team_id for r in plan.routes] == [t.id for t in teams]
    km = 0.0
    for crew, route in zip(teams, plan.routes, strict=True):
        assert len(route.visits) <= crew.capacity
        here, free = (crew.start_lat, crew.start_lon), crew.shift_start
        for visit in route.visits:
            s = by_id[visit.stop_id]
            leg = haversine_km(here, (s.lat, s.lon))
            km += leg
            assert visit.arrive >= free + leg / SPEED * 60 - 1  # minutes are rounded up
            assert visit.arrive <= visit.start
            assert s.window_start <= visit.start <= s.window_end
            assert visit.start >= 480  # visit hours
            assert visit.leave <= 1200
            assert visit.leave == visit.start + s.service_minutes
            here, free = (s.lat, s.lon), visit.leave
        home = haversine_km(here, (crew.start_lat, crew.start_lon))
        km += home
        assert free + home / SPEED * 60 <= crew.shift_end + 1
    assert plan.travel_km == pytest.approx(km, abs=0.01)


def served(plan) -> set[str]:
    return {v.stop_id for route in plan.routes for v in route.visits}


def test_plan_day_keeps_windows_hours_shifts_and_capacity():
    stops, teams = city(seed=3, visits=60, teams=6)

    plan = plan_day(stops, teams, speed_kmh=SPEED, seconds=0.5, seed=1)

    assert_holds(plan, stops, teams)
    # More visits than places: every place is used and the rest wait for want of capacity.
    assert len(served(plan)) == sum(t.capacity for t in teams) == 54
    assert {u.reason for u in plan.unassigned} == {NO_TEAM_CAPACITY}
    assert 0 < plan.solver_seconds < 1.5


def test_nearest_neighbour_keeps_the_same_rules():
    stops, teams = city(seed=3, visits=60, teams=6)

    plan = nearest_neighbour(stops, teams, speed_kmh=SPEED)

    assert_holds(plan, stops, teams)
    assert len(served(plan)) >= 40


def test_solver_travels_less_than_nearest_neighbour_on_the_same_visits():
    stops, teams = city(seed=5, visits=40, teams=5, capacity=(12, 13))

    plan = plan_day(stops, teams, speed_kmh=SPEED, seconds=0.5, seed=0)
    baseline = nearest_neighbour(stops, teams, speed_kmh=SPEED)

    assert served(plan) == served(baseline) == {s.id for s in stops}
    assert plan.travel_km < 0.9 * baseline.travel_km


def random_stop(i: int):
    minute = st.integers(420, 1260)
    return st.builds(
        lambda n, e, a, b, service, priority: stop(
            f"S{i}", n, e, (min(a, b), max(a, b)), service, priority
        ),
        st.floats(-15, 15),
        st.floats(-15, 15),
        minute,
        minute,
        st.integers(0, 90),
        st.integers(1, 3),
    )


def random_team(i: int):
    return st.builds(
        lambda n, e, capacity, a, b: team(f"T{i}", n, e, capacity, (min(a, b), max(a, b))),
        st.floats(-10, 10),
        st.floats(-10, 10),
        st.integers(0, 6),
        st.integers(420, 1260),
        st.integers(420, 1260),
    )


days = st.tuples(
    st.integers(0, 12).flatmap(lambda n: st.tuples(*[random_stop(i) for i in range(n)])),
    st.integers(0, 3).flatmap(lambda n: st.tuples(*[random_team(i) for i in range(n)])),
)


@settings(max_examples=25)
@given(days)
def test_any_day_gets_a_plan_that_holds(day):
    stops, teams = day

    for plan in (
        plan_day(stops, teams, speed_kmh=SPEED, seconds=0.02),
        nearest_neighbour(stops, teams, speed_kmh=SPEED),
    ):
        assert_holds(plan, stops, teams)


def test_schedule_times_each_visit_from_travel_and_windows():
    # A must come first (its window closes before B could be done); 5 km is 12 minutes at 25 km/h.
    stops = [stop("B", 10, window=(600, 660), service=45), stop("A", 5, window=(480, 540))]
    teams = [team("T")]

    for plan in (
        plan_day(stops, teams, speed_kmh=SPEED, seconds=0.2),
        nearest_neighbour(stops, teams, speed_kmh=SPEED),
    ):
        assert plan.routes[0].visits == [
            PlannedStop("A", arrive=522, start=522, leave=552),
            PlannedStop("B", arrive=564, start=600, leave=645),
        ]
        assert plan.unassigned == []
        assert plan.travel_km == 20.0
        assert plan.travel_minutes == 48


def test_first_visit_leaves_base_just_in_time():
    plan = plan_day([stop("A", 5, window=(840, 900))], [team("T")], speed_kmh=SPEED, seconds=0.2)

    assert plan.routes[0].visits == [PlannedStop("A", arrive=840, start=840, leave=870)]


def test_stop_no_team_can_reach_in_its_window_is_window_unreachable():
    stops = [
        stop("near", 3),
        stop("far", 60, window=(540, 570)),  # 144 minutes away, window closes at 09:30
        stop("early", 2, window=(420, 470)),  # before visit hours
        stop("late", 2, window=(1180, 1200), service=45),  # would run past 20:00
    ]

    plan = plan_day(stops, [team("T")], speed_kmh=SPEED, seconds=0.2)

    assert served(plan) == {"near"}
    assert plan.unassigned == [
        Unplaced("far", WINDOW_UNREACHABLE),
        Unplaced("early", WINDOW_UNREACHABLE),
        Unplaced("late", WINDOW_UNREACHABLE),
    ]


def test_overload_leaves_the_rest_unplaced_for_want_of_capacity():
    stops = [stop(f"S{i}", 1 + i * 0.5) for i in range(7)]
    teams = [team("T1", capacity=2), team("T2", capacity=2)]

    for plan in (
        plan_day(stops, teams, speed_kmh=SPEED, seconds=0.3),
        nearest_neighbour(stops, teams, speed_kmh=SPEED),
    ):
        assert_holds(plan, stops, teams)
        assert [len(r.visits) for r in plan.routes] == [2, 2]
        assert [u.reason for u in plan.unassigned] == [NO_TEAM_CAPACITY] * 3


def test_a_clash_of_windows_with_room_left_is_not_served_by_solver():
    stops = [stop("A", 4, window=(600, 600), service=45), stop("B", -4, window=(600, 600))]

    plan = plan_day(stops, [team("T", capacity=5)], speed_kmh=SPEED, seconds=0.2)

    assert len(served(plan)) == 1
    assert [u.reason for u in plan.unassigned] == [NOT_SERVED_BY_SOLVER]


def test_priority_wins_the_last_place():
    stops = [stop("near", 1), stop("urgent", 8, priority=2)]

    plan = plan_day(stops, [team("T", capacity=1)], speed_kmh=SPEED, seconds=0.2)

    assert served(plan) == {"urgent"}
    assert plan.unassigned == [Unplaced("near", NO_TEAM_CAPACITY)]


def test_nearest_neighbour_always_goes_to_the_nearest_stop():
    stops = [stop("6N", 6), stop("2S", -2), stop("1N", 1), stop("3N", 3)]

    plan = nearest_neighbour(stops, [team("T")], speed_kmh=SPEED)

    assert [v.stop_id for v in plan.routes[0].visits] == ["1N", "3N", "6N", "2S"]


def test_empty_days():
    no_stops = plan_day([], [team("T")], speed_kmh=SPEED, seconds=0.2)
    no_teams = plan_day([stop("A", 1)], [], speed_kmh=SPEED, seconds=0.2)

    assert [r.visits for r in no_stops.routes] == [[]]
    assert no_stops.unassigned == []
    assert no_stops.travel_km == 0
    assert no_teams.routes == []
    assert no_teams.unassigned == [Unplaced("A", WINDOW_UNREACHABLE)]


def test_duplicate_stop_ids_are_refused():
    with pytest.raises(ValueError, match="stop ids"):
        plan_day([stop("A", 1), stop("A", 2)], [team("T")], speed_kmh=SPEED, seconds=0.2)


# Depot and three customers on a 10 × 10 square. Without windows the best tour is the perimeter
# (40.0); the windows force A, C, B: 10 + 14.1 + 10 + 14.1 = 48.2, each diagonal (14.142…)
# truncated to one decimal as DIMACS does. Two vehicles do not help: A alone and C, B costs 54.1.
TINY_VRP = """NAME : tiny
TYPE : VRPTW
DIMENSION : 4
VEHICLES : 2
CAPACITY : 10
EDGE_WEIGHT_TYPE : EUC_2D
NODE_COORD_SECTION
1 0 0
2 0 10
3 10 10
4 10 0
DEMAND_SECTION
1 0
2 1
3 1
4 1
TIME_WINDOW_SECTION
1 0 1000
2 0 15
3 40 60
4 20 40
DEPOT_SECTION
1
-1
EOF
"""


def test_solve_vrplib_finds_the_optimum_with_windows_and_dimacs_rounding(tmp_path):
    tiny = tmp_path / "tiny.vrp"
    tiny.write_text(TINY_VRP)

    cost, routes = solve_vrplib(str(tiny), seconds=0.3)

    assert cost == pytest.approx(48.2)
    assert routes == [[1, 3, 2]]
