"""bench routing: the --instance figures on a tiny VRPLIB file, and a small synthetic day."""

import json

import pytest
from django.core.management import call_command

from tests.visits.test_routing import TINY_VRP


def bench(capsys, *arguments) -> dict:
    call_command("bench", "routing", *arguments, "--json")
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


@pytest.fixture
def tiny(tmp_path):
    path = tmp_path / "tiny.vrp"
    path.write_text(TINY_VRP)
    (tmp_path / "tiny.sol").write_text("Route #1: 1 3 2\nCost 48.2\n")
    return path


def test_bench_routing_instance_prints_cost_bks_and_gap(tiny, capsys):
    figures = bench(capsys, "--instance", str(tiny), "--seconds", "0.3")

    assert figures == {
        "instance": "tiny",
        "cost": 48.2,
        "bks": 48.2,
        "gap": 0.0,
        "routes": 1,
        "seconds": figures["seconds"],
        "seed": 0,
    }
    assert 0.3 <= figures["seconds"] < 2


def test_bench_routing_instance_without_a_solution_file_has_no_gap(tiny, capsys):
    tiny.with_suffix(".sol").unlink()

    figures = bench(capsys, "--instance", str(tiny), "--seconds", "0.2")

    assert (figures["cost"], figures["bks"], figures["gap"]) == (48.2, None, None)


def test_bench_routing_day_compares_travel_on_the_same_visits(capsys):
    figures = bench(capsys, "--visits", "40", "--teams", "4", "--seconds", "0.5", "--seed", "2")

    solver, baseline, same = figures["solver"], figures["nearest_neighbour"], figures["same_visits"]
    assert (figures["visits"], figures["teams"]) == (40, 4)
    assert solver["served"] + solver["unassigned"] == 40
    assert baseline["served"] + baseline["unassigned"] == 40
    assert same["visits"] == same["solver_served"] == baseline["served"]
    assert same["nearest_neighbour_km"] == baseline["travel_km"]
    assert same["saving"] == round(1 - same["solver_km"] / baseline["travel_km"], 4)
    assert same["saving"] > 0.1
    assert figures["seconds"] < 1.5
